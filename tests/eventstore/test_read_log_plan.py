"""read_log's plan on PostgreSQL does not hang on table statistics: with none at all (a
restore not yet analyzed, autovacuum off) a batch still reads the primary key in order
and never sorts the rest of the log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from eventstore.database import driver_dsn
from eventstore.postgres import READ_LOG

LOG_SIZE = 100_000
BATCH = 500

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def unanalyzed_log(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection whose `events` is a filled copy of the log's table that was never
    analyzed: its own schema, first on the search path."""
    conn = await asyncpg.connect(driver_dsn(make_url(postgres_url)))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS unanalyzed CASCADE")
        await conn.execute("CREATE SCHEMA unanalyzed")
        await conn.execute(
            "CREATE TABLE unanalyzed.events (LIKE public.events INCLUDING ALL) "
            "WITH (autovacuum_enabled = false)"
        )
        await conn.execute("SET search_path TO unanalyzed")
        await conn.execute(
            """
            INSERT INTO events (position, event_id, stream_id, stream_type, version,
                                event_type, schema_version, data, metadata, recorded_at)
            SELECT n * 1024, gen_random_uuid(), 'Order-' || n / 4, 'Order', n % 4 + 1,
                   'OrderShipped', 1, '{}', '{}', now()
            FROM generate_series(1, $1) AS n
            """,
            LOG_SIZE,
        )
        yield conn
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS unanalyzed CASCADE")
        await conn.close()


def _nodes(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"], *(n for child in plan.get("Plans", []) for n in _nodes(child))]


async def _plan(conn: asyncpg.Connection, after: int) -> list[str]:
    explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {READ_LOG}", after, BATCH)
    return _nodes(json.loads(explained)[0]["Plan"])


async def test_the_log_has_no_statistics(unanalyzed_log: asyncpg.Connection) -> None:
    analyzed = await unanalyzed_log.fetchval(
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'unanalyzed'"
    )
    assert analyzed == 0


@pytest.mark.parametrize("after", [0, LOG_SIZE // 2 * 1024])
async def test_a_batch_reads_the_key_in_order_without_statistics(
    unanalyzed_log: asyncpg.Connection, after: int
) -> None:
    nodes = await _plan(unanalyzed_log, after)
    assert "Sort" not in nodes
    assert "Index Scan" in nodes
    assert "Seq Scan" not in nodes and "Bitmap Heap Scan" not in nodes


async def test_the_generic_plan_reads_the_key_in_order(
    unanalyzed_log: asyncpg.Connection,
) -> None:
    # the driver's prepared statement may settle on a plan made without the parameters
    await unanalyzed_log.execute("SET plan_cache_mode TO force_generic_plan")
    nodes = await _plan(unanalyzed_log, 0)
    assert "Sort" not in nodes and "Index Scan" in nodes


async def test_the_batch_is_the_next_events_in_order(unanalyzed_log: asyncpg.Connection) -> None:
    rows = await unanalyzed_log.fetch(READ_LOG, 10 * 1024, BATCH)
    assert [row["position"] for row in rows] == [n * 1024 for n in range(11, 11 + BATCH)]
