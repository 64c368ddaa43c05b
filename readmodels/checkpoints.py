"""The projection_checkpoints table: how far each projection got, and in which state.

On PostgreSQL every change of a row is also announced on CHECKPOINT_CHANNEL, by the
statement that makes it: the notification is delivered if and only if the change commits,
so API processes that run no projection learn of every commit (readmodels/feed.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    String,
    Table,
    Text,
    case,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore.tables import UtcDateTime
from readmodels.db import dialect_insert, metadata
from readmodels.views import ProjectionState

projection_checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    # bumped by every change: orders statuses that reach a process by different roads
    Column("revision", BigInteger, nullable=False, server_default="0"),
)
_c = projection_checkpoints.c

CHECKPOINT_CHANNEL = "cqrs_orders_projected"
# a NOTIFY payload is limited to 8000 bytes; the full error stays in the table
NOTIFIED_ERROR_CHARS = 2000

Checkpoint = Row[Any]  # a row of projection_checkpoints


async def ensure(conn: AsyncConnection, names: Iterable[str]) -> None:
    """Give every projection a checkpoint row, at the start of the log if it had none."""
    now = datetime.now(UTC)
    rows = [
        {"name": name, "position": 0, "state": ProjectionState.RUNNING.value, "updated_at": now}
        for name in names
    ]
    await conn.execute(dialect_insert(conn, projection_checkpoints).on_conflict_do_nothing(), rows)


async def load(conn: AsyncConnection, names: Iterable[str]) -> dict[str, Checkpoint]:
    rows = await conn.execute(select(projection_checkpoints).where(_c.name.in_(list(names))))
    return {row.name: row for row in rows}


async def advance(
    conn: AsyncConnection, name: str, at: int, to: int, caught_up: bool
) -> Checkpoint | None:
    """Move past a batch just applied. A rebuild stays REBUILDING until it is caught up;
    any success clears FAILED."""
    running, rebuilding = ProjectionState.RUNNING.value, ProjectionState.REBUILDING.value
    state = running if caught_up else case((_c.state == rebuilding, rebuilding), else_=running)
    return await _swap(conn, name, at, position=to, state=state, last_error=None)


async def settle(conn: AsyncConnection, name: str, at: int) -> Checkpoint | None:
    """A rebuild that is caught up without a last batch to apply is done."""
    return await _swap(conn, name, at, state=ProjectionState.RUNNING.value)


async def fail(conn: AsyncConnection, name: str, at: int, error: str) -> Checkpoint | None:
    return await _swap(conn, name, at, state=ProjectionState.FAILED.value, last_error=error)


async def reset(conn: AsyncConnection, name: str) -> Checkpoint:
    row = await _swap(
        conn, name, None, position=0, state=ProjectionState.REBUILDING.value, last_error=None
    )
    if row is None:
        raise LookupError(f"projection {name} has no checkpoint row")
    return row


async def _swap(
    conn: AsyncConnection, name: str, at: int | None, **values: Any
) -> Checkpoint | None:
    """Change the row only while it is still at position `at` (None: wherever it is), and
    return it as changed, or None when someone else moved it: a runner whose batch was
    overtaken (by a rebuild, or by another process) must roll back, not apply it twice."""
    statement = update(projection_checkpoints).where(_c.name == name)
    if at is not None:
        statement = statement.where(_c.position == at)
    statement = statement.values(**values, updated_at=datetime.now(UTC), revision=_c.revision + 1)
    returning: list[Any] = [projection_checkpoints]
    if conn.dialect.name == "postgresql":
        returning.append(func.pg_notify(literal(CHECKPOINT_CHANNEL), _announcement()))
    changed: Checkpoint | None = (await conn.execute(statement.returning(*returning))).first()
    return changed


def _announcement() -> Any:
    """The changed row as JSON text, for readmodels.feed."""
    fields = {
        "name": _c.name,
        "position": _c.position,
        "state": _c.state,
        "last_error": func.left(_c.last_error, NOTIFIED_ERROR_CHARS),
        "updated_at": _c.updated_at,
        "revision": _c.revision,
    }
    pairs = [part for key, value in fields.items() for part in (literal_column(f"'{key}'"), value)]
    return func.json_build_object(*pairs).cast(Text)
