"""Requests refused before execution: callers without a valid token, subscriptions over HTTP,
and text no database stores."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    parse,
)
from starlette.websockets import WebSocket
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from schema.context import Context
from schema.identity.unauthenticated import unauthenticated

# U+0000 and unpaired surrogates: PostgreSQL stores neither, and neither is encodable as UTF-8
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refusal(execution: ExecutionContext) -> GraphQLError | None:
    """The error refusing a valid document, before execution, for what would otherwise fail
    deep inside as INTERNAL_SERVER_ERROR; None for a request to execute:

    - a caller without a valid token, when tokens are required (HTTP 401): only a document
      that asks for nothing but the schema itself is answered without one, so GraphiQL can
      load it (while introspection is on; it is refused by validation otherwise);

    - a subscription sent over HTTP, where it would run as a query whose root field is a
      stream; subscriptions stream over the websocket;
    - an argument whose text holds a character no database stores (BAD_USER_INPUT naming
      the input field); PostgreSQL fails on it in a query or an append, SQLite stores it.
    """
    return (
        unauthenticated(execution)
        or _subscription_over_http(execution)
        or _unstorable_text(execution)
    )


def _subscription_over_http(execution: ExecutionContext) -> GraphQLError | None:
    context = execution.context
    if (
        isinstance(context, Context)
        and not isinstance(context.request, WebSocket)
        and execution.operation_type is OperationType.SUBSCRIPTION
    ):
        return GraphQLError(
            "subscriptions are served over a websocket at /graphql "
            "(graphql-transport-ws or graphql-ws), not over HTTP",
            extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
        )
    return None


def _unstorable_text(execution: ExecutionContext) -> GraphQLError | None:
    document, variables = execution.graphql_document, execution.variables or {}
    if document is None:
        return None
    # Almost every request holds no such character: prove that first with the cheap tests,
    # and search for the field to name only when one may be there.
    if not _any_unstorable(variables) and not (
        execution.query is not None and _has_unstorable_literal(execution.query)
    ):
        return None
    field = _unstorable_argument(document, variables)
    if field is None:
        return None
    return GraphQLError(
        f"{field} holds a character that cannot be stored (U+0000 or an unpaired surrogate)",
        extensions={"code": "BAD_USER_INPUT", "field": field},
    )


InputPath = tuple[str | int, ...]


@functools.lru_cache(maxsize=512)
def _has_unstorable_literal(query: str) -> bool:
    """Whether a text literal of a valid document (an argument's or a variable's default)
    holds the character, remembered by the document's text: clients resend few documents."""
    return _unstorable_argument(parse(query), {}) is not None


def _any_unstorable(value: object) -> bool:
    """Whether any text in a variable's value, as decoded from JSON, holds the character."""
    pending = [value]
    while pending:
        match pending.pop():
            case str() as text:
                if _UNSTORABLE.search(text):
                    return True
            case list() as items:
                pending.extend(items)
            case dict() as fields:
                pending.extend(fields.values())
    return False


def _unstorable_argument(document: DocumentNode, variables: Mapping[str, Any]) -> str | None:
    """The input field (as clients name it) of the first argument, given literally or through
    a variable, whose text cannot be stored; None when every one can."""
    defaults = {
        definition.variable.name.value: definition.default_value
        for operation in document.definitions
        if isinstance(operation, OperationDefinitionNode)
        for definition in operation.variable_definitions or ()
    }
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            for field in _fields(definition.selection_set):
                for argument in field.arguments or ():
                    path: InputPath = (argument.name.value,)
                    found = _unstorable_node(argument.value, path, variables, defaults)
                    if found is not None:
                        return _field_name(found)
    return None


def _fields(selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            yield selection
            yield from _fields(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set)


def _unstorable_node(
    node: ValueNode,
    path: InputPath,
    variables: Mapping[str, Any],
    defaults: Mapping[str, ValueNode | None],
) -> InputPath | None:
    match node:
        case StringValueNode():
            return path if _UNSTORABLE.search(node.value) else None
        case VariableNode():
            name = node.name.value
            if name in variables:
                return _unstorable_value(variables[name], path)
            default = defaults.get(name)
            return None if default is None else _unstorable_node(default, path, {}, {})
        case ListValueNode():
            for index, item in enumerate(node.values):
                if (
                    found := _unstorable_node(item, (*path, index), variables, defaults)
                ) is not None:
                    return found
        case ObjectValueNode():
            for field in node.fields:
                found = _unstorable_node(
                    field.value, (*path, field.name.value), variables, defaults
                )
                if found is not None:
                    return found
    return None


def _unstorable_value(value: object, path: InputPath) -> InputPath | None:
    """The same search in a variable's value, as decoded from JSON. Iterative: the value may
    nest as deep as the JSON decoder allows, past what recursion here would."""
    pending: list[tuple[object, InputPath]] = [(value, path)]
    while pending:
        value, path = pending.pop()
        match value:
            case str():
                if _UNSTORABLE.search(value):
                    return path
            case list():
                pending.extend(
                    (item, (*path, index)) for index, item in reversed(list(enumerate(value)))
                )
            case dict():
                pending.extend((item, (*path, str(key))) for key, item in reversed(value.items()))
    return None


def _field_name(path: InputPath) -> str:
    """`("input", "items", 0, "productId")` -> `items[0].productId`: a mutation's fields are
    named inside its one `input` argument, as the command's own validation names them."""
    parts = path[1:] if len(path) > 1 and path[0] == "input" else path
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else part
    return name
