"""Every error a client can cause becomes a GraphQL error with a precise extensions.code;
anything else is masked as INTERNAL_SERVER_ERROR and logged with its traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from handlers.errors import Forbidden, InvalidInput, InvalidState, OrderNotFound, VersionConflict
from readmodels import InvalidQuery

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error; it has been logged."

# graphql-core's wordings for argument and variable values that the schema's types refuse
_REFUSED_VALUE_SIGNS = ("has invalid value", "got invalid value", "Expected value of type")


class ClientError(Exception):
    """An error the API layer itself finds in a request (a malformed id, say)."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT", field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field


def camel_case(path: str) -> str:
    """`shipping_address.postal_code` -> `shippingAddress.postalCode`, the client's names."""
    return re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), path)


def client_error_of(error: BaseException) -> tuple[str, str | None] | None:
    """(code, field) for an exception a client caused, or None for a server fault."""
    match error:
        case ClientError():
            return error.code, error.field
        case InvalidInput() | InvalidQuery():
            return "BAD_USER_INPUT", camel_case(error.field) if error.field else None
        case OrderNotFound():
            return "NOT_FOUND", None
        case Forbidden():
            return "FORBIDDEN", None
        case VersionConflict():
            return "CONFLICT", None
        case InvalidState():
            return "INVALID_STATE", None
    return None


def classify(error: GraphQLError) -> None:
    """Give the error its code (and field), or mask it, in place: it is the very object
    that every transport, HTTP and both websocket protocols, formats for the client."""
    if (error.extensions or {}).get("code"):
        return  # already classified (errors pass through here once per transport hop)
    original = error.original_error
    raised = None if isinstance(original, GraphQLError) else original
    # a client's mistake found by our code, even where no path says which resolver found it
    # (strawberry reports the exceptions of a subscription's stream without one)
    found = None if raised is None else client_error_of(raised)
    if found is not None:
        code, field = found
        _set(error, str(raised), code, field)
        return
    if raised is None or error.path is None:
        # no resolver ran: the request itself (syntax, validation, variable values) is wrong
        _set(error, error.message, _request_error_code(error), None)
        return
    log.error("unexpected error in %s", ".".join(map(str, error.path)), exc_info=raised)
    _set(error, INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR", None)
    error.original_error = None


def _request_error_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    # values the schema's types refuse: bad scalars, nulls for non-null, unknown enum values
    if any(sign in error.message for sign in _REFUSED_VALUE_SIGNS):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _set(error: GraphQLError, message: str, code: str, field: str | None) -> None:
    extensions: dict[str, Any] = {**(error.extensions or {}), "code": code}
    if field is not None:
        extensions["field"] = field
    error.message = message
    error.extensions = extensions
