"""Parsing and validating a document once per text, with the service's limits.

Strawberry's ParserCache, ValidationCache and AddValidationRules do the same work as
extensions whose hooks are wrapped anew for every operation; these caches are called from
the one DocumentChecks extension instead (schema/extensions.py).
"""

from __future__ import annotations

import functools

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation import ASTValidationRule
from strawberry.extensions import ParserCache
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

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
_cached_parse = ParserCache(maxsize=CACHE_SIZE).cached_parse_document


def parse(query: str | None) -> DocumentNode:
    """The document of `query`, refused past MAX_TOKENS tokens."""
    document: DocumentNode = _cached_parse(query, max_tokens=MAX_TOKENS)
    return document


def validation_errors(execution: ExecutionContext) -> list[GraphQLError]:
    """The validation errors of the execution's document, with the service's limits; a list
    shared by every request of the same text: copy it before changing it."""
    assert execution.query is not None, "a parsed document has a query text"
    return _validation_errors(
        execution.schema._schema, execution.query, execution.validation_rules + _LIMIT_RULES
    )


@functools.lru_cache(maxsize=CACHE_SIZE)
def _validation_errors(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Remembered by the document's text: an AST is a frozen dataclass whose hash walks every
    node on each lookup, which cost 3% of a small query's server time when the cache was
    keyed by the document."""
    return validate_document(schema, parse(query), rules)
