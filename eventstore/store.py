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

Measured alternative (bench/append.py): serializing appends with an advisory lock is
just as safe with dense positions, but it serializes every commit's WAL flush and costs
most of the throughput at 16 writers; the xid position costs almost nothing. The price
of the xid scheme: a long-running transaction anywhere in the cluster holds the read
horizon back until it ends, and positions depend on the cluster's transaction counter
(see docs/operations.md for what a dump/restore into a new cluster needs). An append
holds at most 1024 events.

SQLite has one writer at a time and commits in position (rowid) order, so read_all
reads plainly there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, literal_column, select, text
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnClause

from eventstore.engine import write_transaction
from eventstore.notify import PgNotifyPublisher, PositionSignal
from eventstore.records import (
    AppendResult,
    CommandFingerprintMismatch,
    ConcurrencyError,
    NewEvent,
    RecordedEvent,
)
from eventstore.tables import events, handled_commands

MAX_EVENTS_PER_APPEND = 1024

_PG_SAFE_HORIZON: ColumnClause[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1024"
)

# One round trip: the events, the expected-version check and the command record. An empty
# result means the command id was taken or the stream is not at the expected version.
_PG_APPEND = text(
    """
WITH appended AS (
    INSERT INTO events (position, event_id, stream_id, stream_type, version,
                        event_type, schema_version, data, metadata, recorded_at)
    SELECT pg_current_xact_id()::text::bigint * 1024 + e.ord - 1,
           e.event_id, CAST(:stream_id AS text), CAST(:stream_type AS text),
           CAST(:expected_version AS integer) + e.ord, e.event_type, e.schema_version,
           e.data::jsonb, e.metadata::jsonb, CAST(:recorded_at AS timestamptz)
    FROM unnest(CAST(:event_ids AS uuid[]), CAST(:event_types AS text[]),
                CAST(:schema_versions AS smallint[]), CAST(:datas AS text[]),
                CAST(:metadatas AS text[]))
         WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata, ord)
    WHERE CAST(:expected_version AS integer) = 0
       OR EXISTS (SELECT 1 FROM events
                  WHERE stream_id = CAST(:stream_id AS text)
                    AND version = CAST(:expected_version AS integer))
    RETURNING position, version
)
INSERT INTO handled_commands (command_id, fingerprint, stream_id, version, position, handled_at)
SELECT CAST(:command_id AS uuid), CAST(:fingerprint AS text), CAST(:stream_id AS text),
       max(version), max(position), CAST(:recorded_at AS timestamptz)
FROM appended HAVING count(*) > 0
ON CONFLICT (command_id) DO NOTHING
RETURNING version, position
"""
)


class EventStore:
    """The append-only log of events, shared by every stream."""

    def __init__(self, engine: AsyncEngine, signal: PositionSignal | None = None) -> None:
        self.engine = engine
        self.signal = signal or PositionSignal()
        self.is_postgres = engine.dialect.name == "postgresql"
        self._publisher = PgNotifyPublisher(engine, self.signal) if self.is_postgres else None

    def start(self) -> None:
        """Begin announcing appends to other processes (PostgreSQL only)."""
        if self._publisher is not None:
            self._publisher.start()

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()

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
        try:
            async with write_transaction(self.engine) as conn:
                result = await self.append_in_transaction(
                    conn,
                    stream_id,
                    stream_type,
                    new_events,
                    expected_version,
                    command_id,
                    fingerprint,
                )
                if result is None:
                    raise _NothingAppended  # roll back whatever the statement did insert
        except (IntegrityError, _NothingAppended):
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
        if not 1 <= len(new_events) <= MAX_EVENTS_PER_APPEND:
            raise ValueError(f"an append takes 1 to {MAX_EVENTS_PER_APPEND} events")
        if expected_version < 0:
            raise ValueError("expected_version is 0 for a new stream, or the stream's version")
        insert_events = _insert_postgres if self.is_postgres else _insert_sqlite
        return await insert_events(
            conn, stream_id, stream_type, new_events, expected_version, command_id, fingerprint
        )

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

    async def head_position(self) -> int:
        """The position of the last event that read_all can return now (0: empty log)."""
        query = select(func.max(events.c.position))
        if self.is_postgres:
            query = query.where(events.c.position < _PG_SAFE_HORIZON)
        async with self.engine.connect() as conn:
            head = (await conn.execute(query)).scalar()
        return int(head or 0)


class _NothingAppended(Exception):
    pass


async def _insert_postgres(
    conn: AsyncConnection,
    stream_id: str,
    stream_type: str,
    new_events: Sequence[NewEvent],
    expected_version: int,
    command_id: UUID,
    fingerprint: str,
) -> AppendResult | None:
    row = (
        await conn.execute(
            _PG_APPEND,
            {
                "stream_id": stream_id,
                "stream_type": stream_type,
                "expected_version": expected_version,
                "event_ids": [e.event_id for e in new_events],
                "event_types": [e.event_type for e in new_events],
                "schema_versions": [e.schema_version for e in new_events],
                "datas": [json.dumps(e.data) for e in new_events],
                "metadatas": [json.dumps(e.metadata) for e in new_events],
                "command_id": command_id,
                "fingerprint": fingerprint,
                "recorded_at": datetime.now(UTC),
            },
        )
    ).first()
    if row is None:
        return None
    return AppendResult(stream_id=stream_id, version=row.version, position=row.position)


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
