"""EventStore: the log's one face, on whichever backend (postgres.py, sqlite.py) the engine
names. How positions stay gap-safe is told in postgres.py."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore.backend import LogBackend, NothingAppended, check_append
from eventstore.notify import PositionSignal
from eventstore.postgres import APPEND_CONNECTIONS, PostgresLog
from eventstore.records import (
    AppendResult,
    CommandFingerprintMismatch,
    ConcurrencyError,
    LoggedEvent,
    NewEvent,
    RecordedEvent,
)
from eventstore.sqlite import SqliteLog
from eventstore.tables import events, handled_commands


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
        # chosen once: the hot path pays one method call for the backend, no test
        self._log: LogBackend = (
            PostgresLog(engine, self.signal, append_connections)
            if self.is_postgres
            else SqliteLog(engine)
        )

    @property
    def write_failure(self) -> str | None:
        """Why appends fail now for every caller (SQLite's writer failed: disk full, a lost
        file), or None. /health reports it."""
        return self._log.write_failure

    def start(self) -> None:
        """Begin announcing appends to other processes (PostgreSQL only)."""
        self._log.start()

    async def close(self) -> None:
        await self._log.close()

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
        check_append(new_events, expected_version)
        try:
            result = await self._log.append(
                stream_id, stream_type, new_events, expected_version, command_id, fingerprint
            )
        except NothingAppended:
            # another writer took this stream version or this command id first
            duplicate = await self.find_command(command_id, fingerprint)
            if duplicate is None:
                raise ConcurrencyError(stream_id, expected_version) from None
            return duplicate
        self.signal.publish(result.position)
        return result

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction that will write beside the appends (a projection batch, a
        checkpoint), committed on success and rolled back on error. On SQLite it waits for
        its turn of the file's one writer (sqlite.py)."""
        return self._log.write_transaction()

    async def find_command(self, command_id: UUID, fingerprint: str = "") -> AppendResult | None:
        """The stored result of a handled command, or None if it was never handled."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(handled_commands).where(handled_commands.c.command_id == command_id)
                )
            ).first()
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

    async def read_log(self, after_position: int = 0, limit: int = 500) -> list[LoggedEvent]:
        """Events after a position, in position order, never past a position that a
        running transaction could still fill in below; with only what projections use,
        read through the driver itself, payloads left as JSON text for the codec."""
        async with self.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None, "a checked-out connection has its driver's"
            rows = await self._log.fetch_log(driver, after_position, limit)
        return [LoggedEvent(*row) for row in rows]

    async def log_extent(self, through: int | None = None) -> tuple[int, int]:
        """How many events the log holds (up to position `through`, if given), and the last
        committed position (which may still be above the read horizon on PostgreSQL): what a
        rebuild must get past."""
        query = select(func.count(), func.coalesce(func.max(events.c.position), 0))
        if through is not None:
            query = query.where(events.c.position <= through)
        async with self.engine.connect() as conn:
            count, last = (await conn.execute(query.select_from(events))).one()
        return int(count), int(last)

    async def head_position(self, conn: AsyncConnection | None = None) -> int:
        """The position of the last event that read_log can return now (0: empty log),
        read through `conn` when given (a caller's transaction), else on a connection of its own."""
        query = self._log.head_query
        if conn is not None:
            return int((await conn.execute(query)).scalar() or 0)
        async with self.engine.connect() as own:
            return int((await own.execute(query)).scalar() or 0)


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
