"""The GraphQL operations' signals, as one schema extension: counts and durations by type
and outcome, the active subscriptions by root field, the operation's server span, and its
type and name in the log lines written meanwhile.

One hook only, a plain generator: Strawberry wraps every hook of every extension anew for
each operation (schema/extensions.py says what that costs). The document is known before
Strawberry parses it: the parse cache DocumentChecks fills answers for the same text.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLError, GraphQLSchema, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext

from schema.observability import log_context
from schema.strawberry_hooks.documents import parse

if TYPE_CHECKING:
    from schema.observability import Observability

# what Strawberry raises, and its views answer with HTTP 400, for a request without a query
# or with an operation the transport does not allow (a mutation over GET, say)
_REFUSED_REQUESTS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)
# an operation name is a client's text: a log line keeps this much of it
NAME_CHARS = 100
UNKNOWN = "unknown"  # a document that does not parse has no type


class OperationSignals(SchemaExtension):
    def __init__(self, signals: Observability, **options: Any) -> None:
        super().__init__(**options)
        self._signals = signals

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        signals, execution = self._signals, self.execution_context
        request = getattr(execution.context, "request", None)
        operation = _operation(execution)
        kind = UNKNOWN if operation is None else operation.operation.value
        name = None if operation is None or operation.name is None else operation.name.value
        # operations on one websocket run side by side: each gets its own log fields
        fields = (
            log_context.scope()
            if isinstance(request, WebSocket) and signals.log_fields
            else contextlib.nullcontext()
        )
        with fields:
            if signals.log_fields:
                log_context.bind(operation_type=kind)
                if name:
                    log_context.bind(operation_name=name[:NAME_CHARS])
            span = None
            if signals.tracing is not None:
                headers = request.headers if isinstance(request, HTTPConnection) else None
                span = signals.tracing.operation(headers, kind, name)
                if signals.log_fields:
                    log_context.bind(trace_id=span.trace_id)
            metrics = signals.metrics
            subscription = None
            if metrics is not None and kind == "subscription" and operation is not None:
                field = _root_field(execution, operation)
                subscription = metrics.child(metrics.subscriptions, field)
                subscription.inc()
            failure: Exception | None = None
            try:
                yield
            except Exception as error:
                # not GeneratorExit or CancelledError: a subscription its client ended
                failure = error
                raise
            finally:
                outcome = (
                    outcome_of(execution.pre_execution_errors or ())
                    if failure is None
                    else "client_error"
                    if isinstance(failure, _REFUSED_REQUESTS)
                    else "server_error"
                )
                if metrics is not None:
                    if subscription is not None:
                        subscription.dec()
                    metrics.child(metrics.operations, kind, outcome).inc()
                    metrics.child(metrics.operation_duration, kind).observe(
                        time.perf_counter() - started
                    )
                if span is not None:
                    span.end(failure, failed=outcome == "server_error")


def outcome_of(errors: Sequence[GraphQLError]) -> str:
    """ok, or whose fault the errors are (schema/errors.py gave each its code)."""
    if not errors:
        return "ok"
    if any((e.extensions or {}).get("code") == "INTERNAL_SERVER_ERROR" for e in errors):
        return "server_error"
    return "client_error"


def _operation(execution: ExecutionContext) -> OperationDefinitionNode | None:
    """The operation the request runs, or None if its document does not parse (the
    request's errors then say why) or lacks it."""
    if execution.query is None:
        return None  # Strawberry refuses the request (400) once the operation starts
    try:
        document = parse(execution.query)
    except GraphQLError:
        return None
    return get_operation_ast(document, execution.operation_name)


def _root_field(execution: ExecutionContext, operation: OperationDefinitionNode) -> str:
    """A subscription's root field, if the schema has it: the document is not validated yet,
    and a label must never carry a client's text."""
    selections = operation.selection_set.selections
    first = selections[0] if selections else None
    if not isinstance(first, FieldNode):
        return UNKNOWN
    # graphql-core's schema, as schema/strawberry_hooks/documents.py reaches it
    return (
        first.name.value
        if first.name.value in _subscription_fields(execution.schema._schema)
        else UNKNOWN
    )


@functools.lru_cache(maxsize=4)
def _subscription_fields(schema: GraphQLSchema) -> frozenset[str]:
    root = schema.subscription_type
    return frozenset() if root is None else frozenset(root.fields)
