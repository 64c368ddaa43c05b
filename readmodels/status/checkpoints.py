"""The projection_checkpoints table: how far each projection got, and in which state.

On PostgreSQL every change of a row is also announced on CHECKPOINT_CHANNEL, by the
statement that makes it: the notification is delivered if and only if the change commits,
so API processes that run no projection learn of every commit
(readmodels/status/checkpoint_feed.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore.database import UtcDateTime
from readmodels.results import ProjectionState
from readmodels.sql import dialect_insert, metadata

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
    # the projection code's version whose tables are live (or, for a shadow build's row,
    # being built); the migrations create version 1's
    Column("version", Integer, nullable=False, server_default="1"),
    # a shadow build's row: when and where the process building it started, for its rate
    Column("build_started_at", UtcDateTime),
    Column("build_started_position", BigInteger),
)
_c = projection_checkpoints.c

CHECKPOINT_CHANNEL = "cqrs_orders_projected"
# a NOTIFY payload is limited to 8000 bytes; the full error stays in the table
NOTIFIED_ERROR_CHARS = 2000


class CheckpointRecord(asyncpg.Record):  # type: ignore[misc]  # asyncpg has no types
    """A row of projection_checkpoints as the driver returns it (a batch's one statement),
    read by attribute like SQLAlchemy's rows."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


Checkpoint = Row[Any] | CheckpointRecord  # a row of projection_checkpoints


async def ensure(conn: AsyncConnection, names: Iterable[str], version: int = 1) -> None:
    """Give every projection a checkpoint row, at the start of the log if it had none (a
    live row's tables are the migrations', version 1; a shadow build's are its own)."""
    now = datetime.now(UTC)
    rows = [
        {
            "name": name,
            "position": 0,
            "state": ProjectionState.RUNNING.value,
            "updated_at": now,
            "version": version,
        }
        for name in names
    ]
    await conn.execute(dialect_insert(conn, projection_checkpoints).on_conflict_do_nothing(), rows)


async def load(conn: AsyncConnection, names: Iterable[str]) -> dict[str, Checkpoint]:
    rows = await conn.execute(select(projection_checkpoints).where(_c.name.in_(list(names))))
    return {row.name: row for row in rows}


async def lock(conn: AsyncConnection, name: str) -> Checkpoint:
    """The row, kept from changing until the transaction ends (PostgreSQL; on SQLite the
    write transaction already holds the file)."""
    statement = select(projection_checkpoints).where(_c.name == name)
    if conn.dialect.name == "postgresql":
        statement = statement.with_for_update()
    return (await conn.execute(statement)).one()


async def load_builds(conn: AsyncConnection, names: Iterable[str]) -> dict[str, Checkpoint]:
    """The row of each named projection's shadow build (`name@version`), where one is under
    way or failed; of two, the newer version's."""
    wanted = list(names)
    if not wanted:
        return {}
    rows = await conn.execute(
        select(projection_checkpoints)
        .where(or_(*(_c.name.startswith(f"{name}@", autoescape=True) for name in wanted)))
        .order_by(_c.version)
    )
    return {row.name.partition("@")[0]: row for row in rows}


async def start_build(conn: AsyncConnection, name: str) -> None:
    """Mark where a process starts building from: the build's rate counts from here."""
    await conn.execute(
        update(projection_checkpoints)
        .where(_c.name == name)
        .values(build_started_at=datetime.now(UTC), build_started_position=_c.position)
    )


async def remove(conn: AsyncConnection, name: str) -> None:
    """Forget a checkpoint: a shadow build's, once switched in or abandoned."""
    await conn.execute(delete(projection_checkpoints).where(_c.name == name))


async def set_version(conn: AsyncConnection, name: str, version: int) -> None:
    """Record which version's tables are live: in a switch's transaction, before the
    change of position that announces it."""
    await conn.execute(
        update(projection_checkpoints).where(_c.name == name).values(version=version)
    )


async def advance(
    conn: AsyncConnection, name: str, at: int, to: int, caught_up: bool
) -> Checkpoint | None:
    """Move past a batch just applied. A rebuild stays REBUILDING until it is caught up;
    any success clears FAILED."""
    return await _swap(conn, "advance", name, at, to=to, caught_up=caught_up)


def pg_advance(
    dialect: Dialect, name: str, revision: int, version: int, to: int, caught_up: bool
) -> tuple[str, list[Any]]:
    """`advance` as PostgreSQL text and its arguments ($1...), guarded by the revision and
    the version rather than the position: for a batch's one statement (running/
    batch_statement.py), whose rows were read before it, outside any transaction. Every
    change of the row bumps its revision, so while the revision is the one last seen, the
    rows read are those of this checkpoint; a position could have been left and reached
    again by a rebuild meanwhile."""
    compiled = _pg_guarded_advance(dialect)
    values = {
        "to": to,
        "caught_up": caught_up,
        "now": datetime.now(UTC),
        "checkpoint": name,
        "revision": revision,
        "version": version,
    }
    arguments = [
        values[key] if key in values else compiled.binds[key].effective_value
        for key in compiled.positiontup or ()
    ]
    return compiled.string, arguments


@functools.cache
def _pg_guarded_advance(dialect: Dialect) -> Any:
    statement = _swap_statement("advance", True, False).where(
        _c.revision == bindparam("revision", type_=BigInteger),
        _c.version == bindparam("version", type_=Integer),
    )
    return statement.compile(dialect=dialect)


async def settle(conn: AsyncConnection, name: str, at: int) -> Checkpoint | None:
    """A rebuild that is caught up without a last batch to apply is done."""
    return await _swap(conn, "settle", name, at)


async def fail(conn: AsyncConnection, name: str, at: int, error: str) -> Checkpoint | None:
    return await _swap(conn, "fail", name, at, error=error)


async def reset(conn: AsyncConnection, name: str) -> Checkpoint:
    row = await _swap(conn, "reset", name, None)
    if row is None:
        raise LookupError(f"projection {name} has no checkpoint row")
    return row


_RUNNING, _REBUILDING = ProjectionState.RUNNING.value, ProjectionState.REBUILDING.value
# What each change sets besides updated_at and revision, from the bind parameters its
# caller passes (named unlike any column, as SQLAlchemy requires of an UPDATE's).
_CHANGES: dict[str, dict[str, Any]] = {
    "advance": {
        "position": bindparam("to", type_=BigInteger),
        "state": case(
            (
                and_(_c.state == _REBUILDING, not_(bindparam("caught_up", type_=Boolean))),
                _REBUILDING,
            ),
            else_=_RUNNING,
        ),
        "last_error": None,
    },
    "settle": {"state": _RUNNING},
    "fail": {
        "state": ProjectionState.FAILED.value,
        "last_error": bindparam("error", type_=Text),
    },
    "reset": {"position": 0, "state": _REBUILDING, "last_error": None},
}


async def _swap(
    conn: AsyncConnection, change: str, name: str, at: int | None, **parameters: Any
) -> Checkpoint | None:
    """Change the row only while it is still at position `at` (None: wherever it is), and
    return it as changed, or None when someone else moved it: a runner whose batch was
    overtaken (by a rebuild, or by another process) must roll back, not apply it twice."""
    statement = _swap_statement(change, conn.dialect.name == "postgresql", at is not None)
    parameters.update(checkpoint=name, now=datetime.now(UTC))
    if at is not None:
        parameters["at"] = at
    changed: Checkpoint | None = (await conn.execute(statement, parameters)).first()
    return changed


# built once: building it anew for each batch cost more client time than the rest of
# the batch's transaction
@functools.cache
def _swap_statement(change: str, postgres: bool, guarded: bool) -> Any:
    statement = update(projection_checkpoints).where(_c.name == bindparam("checkpoint"))
    if guarded:
        statement = statement.where(_c.position == bindparam("at"))
    statement = statement.values(
        **_CHANGES[change],
        updated_at=bindparam("now", type_=UtcDateTime),
        revision=_c.revision + 1,
    )
    returning: list[Any] = [projection_checkpoints]
    if postgres:
        returning += [
            func.pg_notify(literal(CHECKPOINT_CHANNEL), _announcement()),
            # Every transaction of the runner that writes ends with a change of its
            # checkpoint, which makes it commit without waiting for the WAL flush, with no
            # statement of its own. Safe for read tables: a crash can lose only the last
            # commits, rows and checkpoint together, and the runner applies those events
            # again from the older checkpoint. It keeps each commit short, and a short
            # transaction holds back the read horizon of other readers less.
            func.set_config("synchronous_commit", "off", True),
        ]
    return statement.returning(*returning)


def _announcement() -> Any:
    """The changed row as JSON text, for readmodels.status.checkpoint_feed."""
    fields = {
        "name": _c.name,
        "position": _c.position,
        "state": _c.state,
        "last_error": func.left(_c.last_error, NOTIFIED_ERROR_CHARS),
        "updated_at": _c.updated_at,
        "revision": _c.revision,
        "version": _c.version,
    }
    pairs = [part for key, value in fields.items() for part in (literal_column(f"'{key}'"), value)]
    return func.json_build_object(*pairs).cast(Text)
