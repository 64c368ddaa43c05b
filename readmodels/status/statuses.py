"""Projection statuses as stored: each checkpoint next to the head of the log, and a build
beside its live tables, if one is under way or failed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore
from readmodels.results import BuildStatus, ProjectionState, ProjectionStatus
from readmodels.status import checkpoints


def status_of(
    row: checkpoints.Checkpoint, head: int, build: checkpoints.Checkpoint | None = None
) -> ProjectionStatus:
    return ProjectionStatus(
        name=row.name,
        position=row.position,
        head_position=max(head, row.position),
        state=ProjectionState(row.state),
        last_error=row.last_error,
        updated_at=row.updated_at,
        revision=row.revision,
        version=row.version,
        build=None if build is None else build_of(build, head),
    )


def build_of(row: checkpoints.Checkpoint, head: int) -> BuildStatus:
    return BuildStatus(
        version=row.version,
        position=row.position,
        head_position=max(head, row.position),
        state=ProjectionState(row.state),
        last_error=row.last_error,
        started_at=row.build_started_at,
        started_position=row.build_started_position,
        updated_at=row.updated_at,
    )


async def read_statuses(
    store: EventStore,
    names: Sequence[str],
    conn: AsyncConnection | None = None,
    *,
    with_builds: bool = False,
) -> list[ProjectionStatus]:
    """The status of each named projection, in the order given; one that never ran is at 0.
    Read through `conn` when given (a read session's), else through a connection of its own;
    `with_builds` adds the shadow build of each, if any (one more query)."""
    if conn is None:
        async with store.engine.connect() as own:
            return await read_statuses(store, names, own, with_builds=with_builds)
    head = await store.head_position(conn)
    rows = await checkpoints.load(conn, names)
    builds = await checkpoints.load_builds(conn, names) if with_builds else {}
    return [
        status_of(rows[name], head, builds.get(name))
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
