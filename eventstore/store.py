"""append, read_stream, read_all and head_position over the events table.

How positions stay gap-safe on PostgreSQL
-----------------------------------------
A sequence hands out numbers at insert time but transactions commit in another order,
so a reader that saw 11 could later see 10 commit and a checkpoint at 11 would skip it.
Filtering by transaction id while ordering by a sequence does not help: an older
transaction can take a later sequence value. So the position *is* the transaction id:

    position = xid8 * 1024 + index of the event within its append

and read_all returns only rows whose transaction id is below the oldest transaction
still running (`pg_snapshot_xmin(pg_current_snapshot())`). Every transaction below that
horizon has ended, and every transaction that ends later has a larger id, hence larger
positions: a reader that has returned P never later meets a committed position below P.
Positions are final at commit, monotonic in read order, and not dense.

Measured (bench/append.py, docs/benchmarks.md): at 16 writers this statement keeps ~0.9
of a plain INSERT's rate, while serializing appends with an advisory lock (the other
gap-safe design, with dense positions) keeps 0.35-0.50, because every commit's WAL flush
then waits for the previous one. The price of the xid scheme: a long-running transaction
anywhere in the cluster holds the read horizon back until it ends, and positions depend
on the cluster's transaction counter (docs/operations.md says what a dump/restore into a
new cluster needs). An append holds at most 1024 events.

SQLite has one writer at a time and commits in position (rowid) order, so read_all
reads plainly there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from sqlalchemy import func, insert, literal_column, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnClause

from eventstore.connections import StatementConnections
from eventstore.engine import driver_dsn, write_transaction
from eventstore.notify import PgNotifyPublisher, PositionSignal
from eventstore.records import (
    AppendResult,
    CommandFingerprintMismatch,
    ConcurrencyError,
    LoggedEvent,
    NewEvent,
    RecordedEvent,
)
from eventstore.tables import events, handled_commands

MAX_EVENTS_PER_APPEND = 1024
# connections for appends (PostgreSQL), beside the engine's pool for everything else:
# appends beyond them queue for a connection rather than crowd the server
APPEND_CONNECTIONS = 16

_PG_HORIZON_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1024"
_PG_SAFE_HORIZON: ColumnClause[int] = literal_column(_PG_HORIZON_SQL)

# What projections read, and nothing more: every other column (ids, metadata, time) and
# SQLAlchemy's typed rows cost more client time than a projection's own work (read_log).
_LOG_COLUMNS = "position, stream_id, version, event_type, schema_version"
_PG_READ_LOG = f"""
SELECT {_LOG_COLUMNS}, data::text FROM events
WHERE position > $1 AND position < {_PG_HORIZON_SQL}
ORDER BY position LIMIT $2
"""
_SQLITE_READ_LOG = f"""
SELECT {_LOG_COLUMNS}, data FROM events WHERE position > ? ORDER BY position LIMIT ?
"""

# The whole append in one statement, so it is atomic even without an explicit transaction
# (no BEGIN/COMMIT round trips): the command record goes in only if the stream is at the
# expected version and the command id is new, and the events only if the record went in.
# A racing writer of the same stream version fails the whole statement on the unique key.
# No row back: the command id was taken or the stream is not at the expected version.
_PG_APPEND = """
WITH handled AS (
    INSERT INTO handled_commands (command_id, fingerprint, stream_id, version, position,
                                  handled_at)
    SELECT $10::uuid, $11::text, $1::text, $3::integer + cardinality($4::uuid[]),
           pg_current_xact_id()::text::bigint * 1024 + cardinality($4::uuid[]) - 1,
           $9::timestamptz
    WHERE $3::integer = 0
       OR EXISTS (SELECT 1 FROM events WHERE stream_id = $1::text AND version = $3::integer)
    ON CONFLICT (command_id) DO NOTHING
    RETURNING version, position
), appended AS (
    INSERT INTO events (position, event_id, stream_id, stream_type, version,
                        event_type, schema_version, data, metadata, recorded_at)
    SELECT pg_current_xact_id()::text::bigint * 1024 + e.ord - 1,
           e.event_id, $1::text, $2::text, $3::integer + e.ord, e.event_type,
           e.schema_version, e.data::jsonb, e.metadata::jsonb, $9::timestamptz
    FROM unnest($4::uuid[], $5::text[], $6::smallint[], $7::text[], $8::text[])
         WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata, ord)
    WHERE EXISTS (SELECT 1 FROM handled)
)
SELECT version, position FROM handled
"""


class EventStore:
    """The append-only log of events, shared by every stream."""

    def __init__(
        self,
        engine: AsyncEngine,
        signal: PositionSignal | None = None,
        *,
        append_connections: int = APPEND_CONNECTIONS,
    ) -> None:
        self.engine = engine
        self.signal = signal or PositionSignal()
        self.is_postgres = engine.dialect.name == "postgresql"
        self._publisher = PgNotifyPublisher(engine.url, self.signal) if self.is_postgres else None
        self._connections = (
            StatementConnections(driver_dsn(engine.url), append_connections)
            if self.is_postgres
            else None
        )

    def start(self) -> None:
        """Begin announcing appends to other processes (PostgreSQL only)."""
        if self._publisher is not None:
            self._publisher.start()

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()
        if self._connections is not None:
            await self._connections.close()

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        new_events: Sequence[NewEvent],
        expected_version: int,
        command_id: UUID,
        fingerprint: str = "",
    ) -> AppendResult:
        """Append events to a stream that must be at `expected_version` (0: a new stream).

        A `command_id` handled before appends nothing and returns its first result with
        `duplicate=True`, also when the two commands race. A stream at another version
        raises ConcurrencyError.
        """
        _check(new_events, expected_version)
        result: AppendResult | None
        try:
            if self.is_postgres:
                result = await self._append_postgres(
                    stream_id, stream_type, new_events, expected_version, command_id, fingerprint
                )
            else:
                async with write_transaction(self.engine) as conn:
                    result = await _insert_sqlite(
                        conn,
                        stream_id,
                        stream_type,
                        new_events,
                        expected_version,
                        command_id,
                        fingerprint,
                    )
                    if result is None:
                        raise _NothingAppended  # roll back whatever was inserted
        except (IntegrityError, asyncpg.IntegrityConstraintViolationError, _NothingAppended):
            # another writer took this stream version or this command id first
            duplicate = await self.find_command(command_id, fingerprint)
            if duplicate is None:
                raise ConcurrencyError(stream_id, expected_version) from None
            return duplicate
        self.signal.publish(result.position)
        return result

    async def append_in_transaction(
        self,
        conn: AsyncConnection,
        stream_id: str,
        stream_type: str,
        new_events: Sequence[NewEvent],
        expected_version: int,
        command_id: UUID,
        fingerprint: str = "",
    ) -> AppendResult | None:
        """The inserts of an append on the caller's transaction, which it must roll back
        when this returns None (command id taken, or stream not at `expected_version`) and
        may commit otherwise. Nothing is signalled: `append` is the usual entry point."""
        _check(new_events, expected_version)
        if not self.is_postgres:
            return await _insert_sqlite(
                conn, stream_id, stream_type, new_events, expected_version, command_id, fingerprint
            )
        arguments = _pg_arguments(
            stream_id, stream_type, new_events, expected_version, command_id, fingerprint
        )
        row = (await conn.exec_driver_sql(_PG_APPEND, arguments)).first()
        return (
            None
            if row is None
            else AppendResult(stream_id=stream_id, version=row.version, position=row.position)
        )

    async def _append_postgres(
        self,
        stream_id: str,
        stream_type: str,
        new_events: Sequence[NewEvent],
        expected_version: int,
        command_id: UUID,
        fingerprint: str,
    ) -> AppendResult:
        """The append as one autocommitted statement on a bare asyncpg connection:
        SQLAlchemy's checkout, execution and reset layers cost several times the statement's
        own client time on this, the hottest path (bench/append.py shows both)."""
        arguments = _pg_arguments(
            stream_id, stream_type, new_events, expected_version, command_id, fingerprint
        )
        assert self._connections is not None, "PostgreSQL stores have append connections"
        row = await self._connections.fetchrow(_PG_APPEND, *arguments)
        if row is None:
            raise _NothingAppended
        return AppendResult(stream_id=stream_id, version=row["version"], position=row["position"])

    async def find_command(self, command_id: UUID, fingerprint: str = "") -> AppendResult | None:
        """The stored result of a handled command, or None if it was never handled."""
        async with self.engine.connect() as conn:
            row = await _command_row(conn, command_id)
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise CommandFingerprintMismatch(command_id)
        return AppendResult(
            stream_id=row.stream_id, version=row.version, position=row.position, duplicate=True
        )

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(events)
                .where(events.c.stream_id == stream_id, events.c.version > after_version)
                .order_by(events.c.version)
            )
            return [_recorded(row) for row in rows]

    async def read_all(self, after_position: int = 0, limit: int = 500) -> list[RecordedEvent]:
        """Events after a position, in position order, never past a position that a
        running transaction could still fill in below."""
        query = select(events).where(events.c.position > after_position)
        if self.is_postgres:
            query = query.where(events.c.position < _PG_SAFE_HORIZON)
        query = query.order_by(events.c.position).limit(limit)
        async with self.engine.connect() as conn:
            return [_recorded(row) for row in await conn.execute(query)]

    async def read_log(self, after_position: int = 0, limit: int = 500) -> list[LoggedEvent]:
        """read_all for projections: the same events under the same read horizon, with
        only what projections use, read through the driver itself."""
        async with self.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None, "a checked-out connection has its driver's"
            if self.is_postgres:
                rows = await driver.fetch(_PG_READ_LOG, after_position, limit)
            else:
                rows = await driver.execute_fetchall(_SQLITE_READ_LOG, (after_position, limit))
        # orjson parses a payload in a third of json's time; amounts are JSON strings
        # (codec.py), so no number goes through a float
        loads = orjson.loads
        return [
            LoggedEvent(position, stream_id, version, event_type, schema_version, loads(data))
            for position, stream_id, version, event_type, schema_version, data in rows
        ]

    async def head_position(self, conn: AsyncConnection | None = None) -> int:
        """The position of the last event that read_all can return now (0: empty log),
        read through `conn` when given (a caller's transaction), else on a connection of its own."""
        query = select(func.max(events.c.position))
        if self.is_postgres:
            query = query.where(events.c.position < _PG_SAFE_HORIZON)
        if conn is not None:
            return int((await conn.execute(query)).scalar() or 0)
        async with self.engine.connect() as own:
            return int((await own.execute(query)).scalar() or 0)


class _NothingAppended(Exception):
    pass


def _check(new_events: Sequence[NewEvent], expected_version: int) -> None:
    if not 1 <= len(new_events) <= MAX_EVENTS_PER_APPEND:
        raise ValueError(f"an append takes 1 to {MAX_EVENTS_PER_APPEND} events")
    if expected_version < 0:
        raise ValueError("expected_version is 0 for a new stream, or the stream's version")


def _pg_arguments(
    stream_id: str,
    stream_type: str,
    new_events: Sequence[NewEvent],
    expected_version: int,
    command_id: UUID,
    fingerprint: str,
) -> tuple[Any, ...]:
    """The parameters $1..$11 of _PG_APPEND."""
    return (
        stream_id,
        stream_type,
        expected_version,
        [e.event_id for e in new_events],
        [e.event_type for e in new_events],
        [e.schema_version for e in new_events],
        [json.dumps(e.data) for e in new_events],
        [json.dumps(e.metadata) for e in new_events],
        datetime.now(UTC),
        command_id,
        fingerprint,
    )


async def _insert_sqlite(
    conn: AsyncConnection,
    stream_id: str,
    stream_type: str,
    new_events: Sequence[NewEvent],
    expected_version: int,
    command_id: UUID,
    fingerprint: str,
) -> AppendResult | None:
    if await _command_row(conn, command_id) is not None:
        return None
    if await _stream_version(conn, stream_id) != expected_version:
        return None
    recorded_at = datetime.now(UTC)
    positions = (
        await conn.execute(
            insert(events).returning(events.c.position),
            [
                {
                    "event_id": e.event_id,
                    "stream_id": stream_id,
                    "stream_type": stream_type,
                    "version": expected_version + index,
                    "event_type": e.event_type,
                    "schema_version": e.schema_version,
                    "data": e.data,
                    "metadata": e.metadata,
                    "recorded_at": recorded_at,
                }
                for index, e in enumerate(new_events, start=1)
            ],
        )
    ).scalars()
    last_position = max(positions)
    version = expected_version + len(new_events)
    await conn.execute(
        insert(handled_commands).values(
            command_id=command_id,
            fingerprint=fingerprint,
            stream_id=stream_id,
            version=version,
            position=last_position,
            handled_at=recorded_at,
        )
    )
    return AppendResult(stream_id=stream_id, version=version, position=last_position)


async def _command_row(conn: AsyncConnection, command_id: UUID) -> Row[Any] | None:
    result = await conn.execute(
        select(handled_commands).where(handled_commands.c.command_id == command_id)
    )
    return result.first()


async def _stream_version(conn: AsyncConnection, stream_id: str) -> int:
    result = await conn.execute(
        select(func.max(events.c.version)).where(events.c.stream_id == stream_id)
    )
    return int(result.scalar() or 0)


def _recorded(row: Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        position=row.position,
        event_id=row.event_id,
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.version,
        event_type=row.event_type,
        schema_version=row.schema_version,
        data=row.data,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
    )
