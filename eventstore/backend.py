"""What EventStore asks of the database under it, and what every append must hold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore.records import AppendResult, NewEvent

# positions leave room for 1024 events per transaction on PostgreSQL (postgres.py); SQLite
# takes the same limit so that both backends accept the same appends
MAX_EVENTS_PER_APPEND = 1024

# What projections read, and nothing more: every other column (ids, metadata, time) and
# SQLAlchemy's typed rows cost more client time than a projection's own work (read_log).
# A backend's log rows are these columns in this order, then the payload as JSON text.
LOG_COLUMNS = "position, stream_id, version, event_type, schema_version"


class NothingAppended(Exception):
    """An append wrote nothing: its command id was taken, or its stream was not at the
    expected version (by another writer first). EventStore.append tells which."""


class LogBackend(Protocol):
    """The log on one kind of database: postgres.PostgresLog or sqlite.SqliteLog."""

    # the last position a reader may see now: the read horizon lives in this query
    head_query: Select[tuple[Any]]

    def start(self) -> None: ...

    @property
    def write_failure(self) -> str | None:
        """Why appends fail now, whoever asks (None: they do not)."""
        ...

    async def close(self) -> None: ...

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        new_events: Sequence[NewEvent],
        expected_version: int,
        command_id: UUID,
        fingerprint: str,
    ) -> AppendResult:
        """Append checked events and their command record atomically, or raise
        NothingAppended."""
        ...

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction of the engine that will write beside the appends (a projection
        batch), committed on success and rolled back on error."""
        ...

    async def fetch_log(
        self, driver: Any, after_position: int, limit: int
    ) -> Iterable[Sequence[Any]]:
        """The log rows after a position, in position order, below the read horizon, read
        through `driver` (the driver's own connection under an engine connection)."""
        ...


def check_append(new_events: Sequence[NewEvent], expected_version: int) -> None:
    if not 1 <= len(new_events) <= MAX_EVENTS_PER_APPEND:
        raise ValueError(f"an append takes 1 to {MAX_EVENTS_PER_APPEND} events")
    if expected_version < 0:
        raise ValueError("expected_version is 0 for a new stream, or the stream's version")
