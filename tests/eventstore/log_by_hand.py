"""What tests do to the log beyond the service's own use of it: read whole records under
the read horizon, and append on a transaction that the test holds open."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import AppendResult, EventStore, NewEvent, RecordedEvent
from eventstore.backend import check_append
from eventstore.postgres import APPEND, SAFE_HORIZON, append_arguments
from eventstore.tables import events


async def read_all(
    store: EventStore, after_position: int = 0, limit: int = 500
) -> list[RecordedEvent]:
    """Events after a position, in position order, never past a position that a
    running transaction could still fill in below."""
    query = select(events).where(events.c.position > after_position)
    if store.is_postgres:
        query = query.where(events.c.position < SAFE_HORIZON)
    query = query.order_by(events.c.position).limit(limit)
    async with store.engine.connect() as conn:
        return [RecordedEvent(**row._asdict()) for row in await conn.execute(query)]


async def append_in_transaction(
    store: EventStore,
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
    may commit otherwise (PostgreSQL only). Nothing is signalled: `store.append` is the
    usual entry point."""
    check_append(new_events, expected_version)
    # on SQLite the process's one writer appends (sqlite_writer.py): a transaction held
    # open here would be a second writer, which the gap-safety tests need only on PostgreSQL
    assert store.is_postgres, "appends in a test's own transaction are PostgreSQL's"
    arguments = append_arguments(
        stream_id, stream_type, new_events, expected_version, command_id, fingerprint
    )
    row = (await conn.exec_driver_sql(APPEND, arguments)).first()
    return (
        None
        if row is None
        else AppendResult(stream_id=stream_id, version=row.version, position=row.position)
    )
