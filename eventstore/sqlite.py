"""The log on a SQLite file: appends as jobs of the process's one writer (group commit),
reads with no horizon.

SQLite has one writer at a time and commits in position (rowid) order, so the log reads
plainly there: no position can commit below one a reader has already returned.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from eventstore.backend import LOG_COLUMNS, NothingAppended
from eventstore.database.sqlite_turn_connection import SqliteTurnConnection
from eventstore.database.sqlite_writer import SqliteWriter
from eventstore.records import AppendResult, CommandFingerprintMismatch, NewEvent
from eventstore.tables import events

HEAD_QUERY = select(func.max(events.c.position))

READ_LOG = f"""
SELECT {LOG_COLUMNS}, data FROM events WHERE position > ? ORDER BY position LIMIT ?
"""

# the append's checks in one statement: the command's record, if any, and the stream's version
CHECKS = """
SELECT c.fingerprint, c.stream_id, c.version, c.position,
       (SELECT max(version) FROM events WHERE stream_id = ?2)
FROM (SELECT ?1 AS command_id) AS wanted
LEFT JOIN handled_commands AS c ON c.command_id = wanted.command_id
"""
EVENT_COLUMNS = """
INSERT INTO events (event_id, stream_id, stream_type, version, event_type, schema_version,
                    data, metadata, recorded_at)
VALUES """
INSERT_COMMAND = """
INSERT INTO handled_commands (command_id, fingerprint, stream_id, version, position, handled_at)
VALUES (?, ?, ?, ?, ?, ?)
"""


@functools.cache
def insert_events(count: int) -> str:
    """One INSERT of `count` rows: one statement, so a refused row (an event id taken)
    leaves nothing of the append behind, with no savepoint; and one statement text per
    count, so that sqlite3's statement cache keeps it prepared."""
    return EVENT_COLUMNS + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * count)


class SqliteLog:
    """Appends through the writer thread of the file; reads plainly through the engine."""

    head_query = HEAD_QUERY

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        path = engine.url.database
        if not path or path == ":memory:":
            raise ValueError(
                "the SQLite event log needs a file: an in-memory database has "
                "one connection, and the writer needs its own"
            )
        self.writer = SqliteWriter(path)
        # the projections' transactions: SQLAlchemy on the writer's own connection, in its
        # turns, one at a time; one connection, kept open, since a checkout and a return
        # cost as much client time as a batch's statements
        self._turn_connection = SqliteTurnConnection()
        self._turns = create_async_engine(
            engine.url, async_creator=self._turn_driver, poolclass=StaticPool
        )
        self._turn_conn: AsyncConnection | None = None
        # the engine's own ways of storing a UUID and a time, so that rows written here
        # read back through SQLAlchemy exactly like rows it wrote
        dialect = engine.dialect
        self._uuid: Callable[[UUID], str] = events.c.event_id.type.bind_processor(dialect)  # type: ignore[assignment]
        self._time: Callable[[datetime], str] = events.c.recorded_at.type.bind_processor(  # type: ignore[assignment]
            dialect
        )

    @property
    def write_failure(self) -> str | None:
        if self.writer.healthy:
            return None
        return str(self.writer.failure or "the SQLite writer has stopped")

    def start(self) -> None:
        # no NOTIFY to run: on SQLite the projections run in the serving process, which
        # the PositionSignal wakes
        pass

    async def close(self) -> None:
        if self._turn_conn is not None:
            await self._turn_conn.close()
        await self._turns.dispose()
        await self.writer.close()  # the engine is its owner's to dispose

    async def _turn_driver(self) -> SqliteTurnConnection:
        return self._turn_connection

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        new_events: Sequence[NewEvent],
        expected_version: int,
        command_id: UUID,
        fingerprint: str,
    ) -> AppendResult:
        # encoded here, on the caller's side, so that the writer holds the file lock only
        # for the statements
        recorded_at = self._time(datetime.now(UTC))
        dumps = orjson.dumps
        # the parameters of one multi-row INSERT, nine per event
        rows: list[Any] = []
        for index, e in enumerate(new_events, start=1):
            rows += (
                self._uuid(e.event_id),
                stream_id,
                stream_type,
                expected_version + index,
                e.event_type,
                e.schema_version,
                dumps(e.data).decode(),
                dumps(e.metadata).decode(),
                recorded_at,
            )
        command = (self._uuid(command_id), fingerprint, recorded_at)

        def work(connection: sqlite3.Connection) -> AppendResult:
            return _append(connection, command_id, command, stream_id, expected_version, rows)

        try:
            return await self.writer.submit(work)
        except sqlite3.IntegrityError as error:  # an event id taken before
            raise NothingAppended from error

    @contextlib.asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the writer's connection, in its turn (sqlite_writer.py): no
        append group is open meanwhile, and each statement runs on the writer's thread.
        Appending from inside it would wait for the turn to end: never do."""
        async with self.writer.turn() as turn:
            self._turn_connection.turn = turn
            conn = self._turn_conn
            try:
                if conn is None:
                    conn = self._turn_conn = await self._turns.connect()
                async with conn.begin():
                    yield conn
            except BaseException:
                # whatever state a failure left it in, the next turn starts afresh
                self._turn_conn = None
                if conn is not None:
                    await conn.close()
                raise
            finally:
                self._turn_connection.turn = None

    async def fetch_log(
        self, driver: Any, after_position: int, limit: int
    ) -> Iterable[Sequence[Any]]:
        rows: Iterable[Sequence[Any]] = await driver.execute_fetchall(
            READ_LOG, (after_position, limit)
        )
        return rows


def _append(
    connection: sqlite3.Connection,
    command_id: UUID,
    command: tuple[str, str, str],
    stream_id: str,
    expected_version: int,
    rows: list[Any],
) -> AppendResult:
    """One append on the writer's thread, in the group's transaction: it sees every append
    before it in the group, so a command id repeated there, or a stream moved there, is
    answered as if they had committed apart. Checks first, then writes that cannot
    half-succeed (the writer's rule: a job raises before it writes)."""
    stored_id, fingerprint, recorded_at = command
    cursor = connection.cursor()
    taken_fingerprint, *taken, current = cursor.execute(CHECKS, (stored_id, stream_id)).fetchone()
    if taken_fingerprint is not None:
        if taken_fingerprint != fingerprint:
            raise CommandFingerprintMismatch(command_id)
        stream, version, position = taken
        return AppendResult(stream_id=stream, version=version, position=position, duplicate=True)
    if (current or 0) != expected_version:
        raise NothingAppended
    count = len(rows) // 9
    cursor.execute(insert_events(count), rows)
    # one writer, one statement: the rows took consecutive rowids, the last one this
    position = cursor.lastrowid or 0
    version = expected_version + count
    cursor.execute(
        INSERT_COMMAND, (stored_id, fingerprint, stream_id, version, position, recorded_at)
    )
    return AppendResult(stream_id=stream_id, version=version, position=position)
