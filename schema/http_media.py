"""The GraphQL-over-HTTP media types: which one a request accepts, and what a response in
`application/graphql-response+json` says with its status.

`application/json` stays as it always was (status 200 for every GraphQL result, `data`
present), for the clients that ask for it or ask for nothing. A client that prefers
`application/graphql-response+json` gets it, and with it the spec's statuses: a request that
fails before execution (it does not parse, does not validate, or its variables do not
coerce) is a 4xx without a `data` entry, so a gateway can tell it from a partial result.
"""

from __future__ import annotations

from collections.abc import Mapping

from strawberry.http import GraphQLHTTPResponse

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Starlette adds a charset to text/* types only; the spec asks for utf-8 to be stated
GRAPHQL_RESPONSE_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"
REQUEST_ERROR_STATUS = 400
SERVER_ERROR_STATUS = 500


def accepted_media_type(accept: str | None) -> str:
    """`GRAPHQL_RESPONSE` when the Accept header prefers it to `application/json` (by
    quality, then by order), `JSON` otherwise: no header, `*/*` and anything else the
    service cannot produce get the legacy type, as the spec allows during its transition."""
    if not accept:
        return JSON
    best: tuple[float, int] | None = None
    chosen = JSON
    for index, item in enumerate(accept.split(",")):
        media_type, _, parameters = item.strip().partition(";")
        media_type = media_type.strip().lower()
        if media_type not in (GRAPHQL_RESPONSE, JSON):
            continue
        quality = _quality(parameters)
        if quality <= 0:
            continue
        # the highest quality wins; among equals, the first listed (negated for max)
        rank = (quality, -index)
        if best is None or rank > best:
            best, chosen = rank, media_type
    return chosen


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0  # an unreadable weight: as if the type were not listed
    return 1.0


def is_request_error(response: Mapping[str, object]) -> bool:
    """Whether a single response body reports a request that failed before execution: no
    data, and errors that carry no `path` (an execution error always has one, even one that
    nulls the whole `data`)."""
    errors = response.get("errors")
    return (
        response.get("data") is None
        and isinstance(errors, list)
        and bool(errors)
        and all(isinstance(error, Mapping) and "path" not in error for error in errors)
    )


def as_graphql_response(response: GraphQLHTTPResponse) -> int | None:
    """Makes a single response body a request error's, in place, when it is one (its `data`
    entry goes), and returns its status; None for an executed result (status 200)."""
    if not is_request_error(response):
        return None
    response.pop("data", None)
    # a failure of the service's own before execution is not the client's to correct
    internal = any(
        isinstance(error, Mapping)
        and isinstance(extensions := error.get("extensions"), Mapping)
        and extensions.get("code") == "INTERNAL_SERVER_ERROR"
        for error in response.get("errors") or ()
    )
    return SERVER_ERROR_STATUS if internal else REQUEST_ERROR_STATUS
