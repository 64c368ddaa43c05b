"""SQL helpers of the read models: metadata, upserts, exact cents, write transactions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement

from eventstore.engine import write_transaction

# Alembic (migrations/versions/0002_read_models.py) creates these tables; this metadata
# only describes them to queries and projections.
metadata = MetaData()

Row = dict[str, Any]


def cents(amount: Decimal) -> int:
    """Exact integer cents of an amount, refusing anything finer than a cent."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount {amount} has more than 2 decimal places")
    return int(scaled)


def money(amount_cents: int) -> Decimal:
    return Decimal(amount_cents).scaleb(-2)


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT of the connection's dialect, the one with ON CONFLICT clauses."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table)


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Row],
    key: Sequence[str],
    update: Callable[[Any], Mapping[str, ColumnElement[Any]]] | None = None,
) -> None:
    """Insert rows, or update the row with the same key: every column from the new row,
    or what `update(excluded)` says (its expressions may read `table` and `excluded`)."""
    if not rows:
        return
    statement = dialect_insert(conn, table)
    new = statement.excluded
    set_ = update(new) if update else {name: new[name] for name in rows[0] if name not in key}
    await conn.execute(statement.on_conflict_do_update(index_elements=key, set_=set_), rows)


@contextlib.asynccontextmanager
async def projection_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction of the runner (eventstore's write_transaction).

    On PostgreSQL it commits without waiting for the WAL flush. That is safe for read
    tables: a crash can lose only the last commits, rows and checkpoint together, and the
    runner applies those events again from the older checkpoint. It keeps each commit
    short, and a short transaction holds back the read horizon of other readers less.
    """
    async with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL synchronous_commit TO off"))
        yield conn
