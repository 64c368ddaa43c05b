"""The plans of the statements queries run: how tests and the benchmark check index use."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

# A plan line that reads a read table row by row, no index: PostgreSQL's "Seq Scan on t",
# SQLite's "SCAN t" (a "SCAN t USING INDEX i" walks an index in order and is fine).
_TABLE_SCAN = re.compile(r"Seq Scan on (\w+)|^\W*SCAN (\w+)\s*$", re.MULTILINE)


async def query_plans(
    engine: AsyncEngine, run: Callable[[], Awaitable[Any]], force_indexes: bool = False
) -> list[str]:
    """Run `run`, then EXPLAIN every SELECT it sent through `engine`, with its
    parameters. `force_indexes` makes PostgreSQL pick any usable index over a sequential
    scan, which tells on a small table whether an index could serve the query at all."""
    sent: list[tuple[str, Any]] = []

    def capture(*arguments: Any) -> None:
        _conn, _cursor, statement, parameters = arguments[:4]
        if statement.lstrip().upper().startswith("SELECT"):  # not the BEGIN of SQLite's hook
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await run()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    sqlite = engine.dialect.name == "sqlite"
    plans = []
    async with engine.connect() as conn:
        if force_indexes and not sqlite:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
        for statement, parameters in sent:
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = await conn.exec_driver_sql(explain + statement, parameters)
            plans.append("\n".join(str(row[-1]) for row in rows))
    return plans


def scanned_tables(plan: str) -> set[str]:
    """The tables a plan reads without an index."""
    return {left or right for left, right in _TABLE_SCAN.findall(plan)}
