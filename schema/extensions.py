"""The schema extensions of the service, in order: caches, limits, request checks, and the
consistency note in responses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from readmodels.session import ReadSession
from schema.context import Context
from schema.request_checks import StorableTextOnly, SubscriptionsOverWebSocketOnly
from schema.settings import Settings

MAX_DEPTH = 10
MAX_TOKENS = 2_000
MAX_ALIASES = 30
# distinct documents remembered: clients send a handful of shapes over and over
CACHE_SIZE = 512


class ReadSessionPerOperation(SchemaExtension):
    """Gives each operation one read session, closed when the operation ends: the context
    getter has no teardown, so the session's connection cannot be left behind there."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            yield
            return
        context.session = ReadSession(context.services.engine)
        try:
            yield
        finally:
            await context.session.close()
            context.session = None


class ReadConsistency(SchemaExtension):
    """Adds `extensions.consistency` when a read gave up waiting for its minPosition."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not isinstance(context, Context) or not context.stale_reads:
            return {}
        return {
            "consistency": {
                "stale": True,
                "position": max(c.position or 0 for c in context.stale_reads),
                "awaited": sorted({name for c in context.stale_reads for name in c.awaited}),
            }
        }


def extensions_for(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        # after ValidationCache: they add to the errors it has just set
        SubscriptionsOverWebSocketOnly,
        StorableTextOnly,
        ReadSessionPerOperation,
        ReadConsistency,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return extensions
