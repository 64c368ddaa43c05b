"""The log on PostgreSQL: the append as one statement, reads only below the safe horizon.

How positions stay gap-safe on PostgreSQL
-----------------------------------------
A sequence hands out numbers at insert time but transactions commit in another order,
so a reader that saw 11 could later see 10 commit and a checkpoint at 11 would skip it.
Filtering by transaction id while ordering by a sequence does not help: an older
transaction can take a later sequence value. So the position *is* the transaction id:

    position = xid8 * 1024 + index of the event within its append

and the log is read (read_log, head_position) only below the oldest transaction still
running (`pg_snapshot_xmin(pg_current_snapshot())`). Every transaction below that
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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnClause

from eventstore.backend import LOG_COLUMNS, NothingAppended
from eventstore.database import StatementConnections, driver_dsn
from eventstore.notify import PgNotifyPublisher, PositionSignal
from eventstore.records import AppendResult, NewEvent
from eventstore.tables import events

# connections for appends, beside the engine's pool for everything else: appends beyond
# them queue for a connection rather than crowd the server
APPEND_CONNECTIONS = 16

_HORIZON_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1024"
SAFE_HORIZON: ColumnClause[int] = literal_column(_HORIZON_SQL)

HEAD_QUERY = select(func.max(events.c.position)).where(events.c.position < SAFE_HORIZON)

# The next events by the primary key alone, then cut at the horizon. With both bounds in
# one WHERE and no statistics (autovacuum off, a restore not yet analyzed), the planner
# takes the range for a sliver of the log and sorts the whole rest of it for each batch
# (170 ms for 200,000 events instead of 0.3); a single lower bound under a LIMIT it
# always reads in index order. tests/eventstore/test_read_log_plan.py holds it to that.
# The payload as text: a json column holds the text as appended, so the cast copies it
# (from jsonb, the server rebuilt each row's text, which held the read near 200,000
# events/s: migration 0009). Without the cast, the codec that SQLAlchemy sets on its
# connections would parse every payload into a dict.
READ_LOG = f"""
SELECT {LOG_COLUMNS}, data FROM (
    SELECT {LOG_COLUMNS}, data::text AS data FROM events
    WHERE position > $1 ORDER BY position LIMIT $2
) AS following
WHERE position < {_HORIZON_SQL}
ORDER BY position
"""

# The whole append in one statement, so it is atomic even without an explicit transaction
# (no BEGIN/COMMIT round trips): the command record goes in only if the stream is at the
# expected version and the command id is new, and the events only if the record went in.
# A racing writer of the same stream version fails the whole statement on the unique key.
# No row back: the command id was taken or the stream is not at the expected version.
APPEND = """
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
           e.schema_version, e.data::json, e.metadata::json, $9::timestamptz
    FROM unnest($4::uuid[], $5::text[], $6::smallint[], $7::text[], $8::text[])
         WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata, ord)
    WHERE EXISTS (SELECT 1 FROM handled)
)
SELECT version, position FROM handled
"""


class PostgresLog:
    """Appends on bare asyncpg connections of its own, announced to other processes by
    NOTIFY; reads below the safe horizon."""

    head_query = HEAD_QUERY

    def __init__(
        self, engine: AsyncEngine, signal: PositionSignal, append_connections: int
    ) -> None:
        self._engine = engine
        self._publisher = PgNotifyPublisher(engine.url, signal)
        self._connections = StatementConnections(driver_dsn(engine.url), append_connections)

    def start(self) -> None:
        self._publisher.start()

    @property
    def write_failure(self) -> str | None:
        return None  # each append has a connection of its own, and fails on its own

    async def close(self) -> None:
        await self._publisher.close()
        await self._connections.close()

    async def append(
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
        arguments = append_arguments(
            stream_id, stream_type, new_events, expected_version, command_id, fingerprint
        )
        try:
            row = await self._connections.fetchrow(APPEND, *arguments)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise NothingAppended from error
        if row is None:
            raise NothingAppended
        return AppendResult(stream_id=stream_id, version=row["version"], position=row["position"])

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._engine.begin()  # PostgreSQL takes many writers: nothing to queue for

    async def fetch_log(
        self, driver: Any, after_position: int, limit: int
    ) -> Iterable[Sequence[Any]]:
        rows: Iterable[Sequence[Any]] = await driver.fetch(READ_LOG, after_position, limit)
        return rows


def append_arguments(
    stream_id: str,
    stream_type: str,
    new_events: Sequence[NewEvent],
    expected_version: int,
    command_id: UUID,
    fingerprint: str,
) -> tuple[Any, ...]:
    """The parameters $1..$11 of APPEND. The payloads' text is compact (no spaces), as on
    SQLite: the json column keeps it as it is given, and every rebuild reads and parses it."""
    dumps = orjson.dumps
    return (
        stream_id,
        stream_type,
        expected_version,
        [e.event_id for e in new_events],
        [e.event_type for e in new_events],
        [e.schema_version for e in new_events],
        [dumps(e.data).decode() for e in new_events],
        [dumps(e.metadata).decode() for e in new_events],
        datetime.now(UTC),
        command_id,
        fingerprint,
    )
