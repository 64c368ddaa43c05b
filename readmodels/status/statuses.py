"""Projection statuses as stored: each checkpoint next to the head of the log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore
from readmodels.results import ProjectionState, ProjectionStatus
from readmodels.status import checkpoints


def status_of(row: checkpoints.Checkpoint, head: int) -> ProjectionStatus:
    return ProjectionStatus(
        name=row.name,
        position=row.position,
        head_position=max(head, row.position),
        state=ProjectionState(row.state),
        last_error=row.last_error,
        updated_at=row.updated_at,
        revision=row.revision,
        version=row.version,
    )


async def read_statuses(
    store: EventStore, names: Sequence[str], conn: AsyncConnection | None = None
) -> list[ProjectionStatus]:
    """The status of each named projection, in the order given; one that never ran is at 0.
    Read through `conn` when given (a read session's), else through a connection of its own."""
    if conn is None:
        async with store.engine.connect() as own:
            return await read_statuses(store, names, own)
    head = await store.head_position(conn)
    rows = await checkpoints.load(conn, names)
    return [
        status_of(rows[name], head)
        if name in rows
        else ProjectionStatus(
            name=name,
            position=0,
            head_position=head,
            state=ProjectionState.RUNNING,
            last_error=None,
            updated_at=None,
        )
        for name in names
    ]
