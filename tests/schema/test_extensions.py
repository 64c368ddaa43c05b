"""The schema's extensions: a document is validated once, however many requests send it."""

from __future__ import annotations

from pathlib import Path

from schema.app import build_schema
from schema.extensions import MAX_ALIASES, validation_errors
from schema.settings import Settings
from tests.conftest import sqlite_url


async def test_the_same_document_is_validated_once(tmp_path: Path) -> None:
    schema = build_schema(Settings(database_url=sqlite_url(tmp_path), projections=False))
    cache = validation_errors
    document = "{ __typename repeated: __typename }"
    await schema.execute(document)
    before = cache.cache_info()

    for _ in range(3):
        result = await schema.execute(document)
        assert result.errors is None

    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)


async def test_the_cached_limits_still_refuse(tmp_path: Path) -> None:
    schema = build_schema(Settings(database_url=sqlite_url(tmp_path), projections=False))
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))

    for _ in range(2):
        result = await schema.execute(f"{{ {aliases} }}")
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
