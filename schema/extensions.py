"""The schema extensions of the service, in order: the document's caches and checks, and the
operation's reads (its session, and the consistency note in responses).

Few on purpose: Strawberry wraps every hook of every extension anew for each operation, which
cost a fifth of a small query's server time with eight of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from starlette.websockets import WebSocket
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.types import ExecutionContext

from readmodels import Consistency
from schema.context import OPERATION_STALE_READS, Context
from schema.persisted_operations import PersistedMode
from schema.persisted_operations.trusted_only import TrustedDocumentsOnly
from schema.request_checks import refusal
from schema.settings import Settings
from schema.strawberry_hooks.documents import parse, validation_errors


class DocumentChecks(SchemaExtension):
    """The document parsed (within the token limit) and validated (with the depth and alias
    limits) through caches, then the service's own refusals (schema/request_checks.py).

    One extension in place of Strawberry's ParserCache, ValidationCache and
    AddValidationRules and the request checks: the same work, with a quarter of the hooks
    to wrap for each operation."""

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = parse(execution.query)
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.query is not None, "on_parse has parsed a query text"
        errors = validation_errors(execution)
        if not errors:
            error = refusal(execution)
            # a new list: the cached one is shared by every request of the same document
            errors = errors if error is None else [error]
        execution.pre_execution_errors = errors
        yield


class OperationReads(SchemaExtension):
    """Gives each operation over HTTP one read session, closed when the operation ends (the
    context getter has no teardown, so the session's connection cannot be left behind
    there), and adds `extensions.consistency` when a read gave up waiting for its
    minPosition.

    A websocket's context is its connection's, shared by every operation on it, so no
    session is kept there: two operations would share, and close, each other's. Their
    reads open their own."""

    def __init__(self, *, execution_context: ExecutionContext | None = None) -> None:
        super().__init__(execution_context=execution_context)
        # this operation's own (an instance per operation), read once it has ended
        self.stale_reads: list[Consistency] = []

    async def on_operation(self) -> AsyncIterator[None]:
        noting = OPERATION_STALE_READS.set(self.stale_reads)
        try:
            context = self.execution_context.context
            if not isinstance(context, Context) or isinstance(context.request, WebSocket):
                yield
                return
            context.session = context.services.queries.session()
            try:
                yield
            finally:
                await context.session.close()
                context.session = None
        finally:
            OPERATION_STALE_READS.reset(noting)

    def get_results(self) -> dict[str, Any]:
        stale = self.stale_reads
        if not stale:
            return {}
        return {
            "consistency": {
                "stale": True,
                "position": max(c.position or 0 for c in stale),
                "awaited": sorted({name for c in stale for name in c.awaited}),
            }
        }


def extensions_for(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    extensions: list[Callable[[], SchemaExtension]] = [DocumentChecks, OperationReads]
    if settings.persisted_operations is PersistedMode.ONLY:
        # after DocumentChecks: its refusals (a missing token first) come before this one
        extensions.append(TrustedDocumentsOnly)
    if not settings.introspection:
        # adds its rule when the operation starts, before DocumentChecks validates
        extensions.append(DisableIntrospection)
    return extensions
