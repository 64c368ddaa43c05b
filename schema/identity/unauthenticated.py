"""The refusal of a caller without a valid token, before anything executes (HTTP 401)."""

from __future__ import annotations

import logging

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from starlette.responses import Response
from strawberry.types import ExecutionContext

from schema.context import Context

log = logging.getLogger(__name__)


def unauthenticated(execution: ExecutionContext) -> GraphQLError | None:
    """UNAUTHENTICATED, with status 401 and the Bearer challenge over HTTP, when tokens are
    required and the caller has no valid one; None otherwise, and for a document that asks
    for nothing but the schema itself (GraphiQL loads it before a token is pasted)."""
    context = execution.context
    if not isinstance(context, Context) or context.caller.actor is not None:
        return None
    if _asks_only_for_the_schema(execution):
        return None
    caller = context.caller
    if caller.refused is not None:
        log.info("refused a bearer token: %s", caller.refused)
    if isinstance(context.response, Response):
        # RFC 6750: the challenge, and the error when a token was presented and refused
        challenge = 'Bearer error="invalid_token"' if caller.presented_a_token else "Bearer"
        context.response.status_code = 401
        context.response.headers["WWW-Authenticate"] = challenge
    message = (
        "the bearer token is not valid (expired, not yet valid, or not signed by a trusted key)"
        if caller.presented_a_token
        else "authentication required: send Authorization: Bearer <token>"
    )
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def _asks_only_for_the_schema(execution: ExecutionContext) -> bool:
    """Whether every root field the operation selects is introspection (`__schema`,
    `__type`, `__typename`), fragments included."""
    document = execution.graphql_document
    if document is None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    name = execution.operation_name
    chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
    if len(chosen) != 1:
        return False
    pending: list[SelectionSetNode] = [chosen[0].selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    return False
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None or selection.name.value in seen:
                    continue
                seen.add(selection.name.value)
                pending.append(fragment.selection_set)
    return True
