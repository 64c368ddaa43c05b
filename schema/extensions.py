"""The schema extensions of the service, in order: the document's caches and checks, and the
operation's reads (its session, and the consistency note in responses).

Few on purpose: Strawberry wraps every hook of every extension anew for each operation, which
cost a fifth of a small query's server time with eight of them.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSchema
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema import validate_document

from schema.context import Context
from schema.request_checks import refusal
from schema.settings import Settings

MAX_DEPTH = 10
MAX_TOKENS = 2_000
MAX_ALIASES = 30
# distinct documents remembered: clients send a handful of shapes over and over
CACHE_SIZE = 512

# Made once: the validation cache is keyed by the rule classes too, and QueryDepthLimiter and
# MaxAliasesLimiter make new ones per instance, so per-request limiters miss it every time.
_LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (
    depth_rule(MAX_DEPTH, None),
    aliases_rule(MAX_ALIASES),
)
# Strawberry's process-wide LRU cache of parse for this size
_parse = ParserCache(maxsize=CACHE_SIZE).cached_parse_document


@functools.lru_cache(maxsize=CACHE_SIZE)
def validation_errors(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The document's validation errors, remembered by its text: an AST is a frozen dataclass
    whose hash walks every node on each lookup, which cost 3% of a small query's server time
    when the cache was keyed by the document."""
    return validate_document(schema, _parse(query, max_tokens=MAX_TOKENS), rules)


class DocumentChecks(SchemaExtension):
    """The document parsed (within the token limit) and validated (with the depth and alias
    limits) through caches, then the service's own refusals (schema/request_checks.py).

    One extension in place of Strawberry's ParserCache, ValidationCache and
    AddValidationRules and the request checks: the same work, with a quarter of the hooks
    to wrap for each operation."""

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = _parse(execution.query, max_tokens=MAX_TOKENS)
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.query is not None, "on_parse has parsed a query text"
        errors = validation_errors(
            execution.schema._schema, execution.query, execution.validation_rules + _LIMIT_RULES
        )
        if not errors:
            error = refusal(execution)
            # a new list: the cached one is shared by every request of the same document
            errors = errors if error is None else [error]
        execution.pre_execution_errors = errors
        yield


class OperationReads(SchemaExtension):
    """Gives each operation one read session, closed when the operation ends (the context
    getter has no teardown, so the session's connection cannot be left behind there), and
    adds `extensions.consistency` when a read gave up waiting for its minPosition."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            yield
            return
        context.session = context.services.queries.session()
        try:
            yield
        finally:
            await context.session.close()
            context.session = None

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
    extensions: list[Callable[[], SchemaExtension]] = [DocumentChecks, OperationReads]
    if not settings.introspection:
        # adds its rule when the operation starts, before DocumentChecks validates
        extensions.append(DisableIntrospection)
    return extensions
