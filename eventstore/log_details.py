"""What the log records beside the payloads, for the service's signals: when the oldest
event past a position was recorded (a projection's lag in seconds), and the metadata of a
range of events (the trace context of the commands that appended them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore.records import JsonObject
from eventstore.tables import events


async def first_recorded_after(conn: AsyncConnection, position: int) -> datetime | None:
    """When the first event after `position` was recorded; None if there is none.

    Every committed event counts, also those still above PostgreSQL's read horizon: they
    have not been applied either (an open transaction holding the horizon back shows as
    lag, which is what an operator needs to see)."""
    query = (
        select(events.c.recorded_at)
        .where(events.c.position > position)
        .order_by(events.c.position)
        .limit(1)
    )
    recorded: datetime | None = (await conn.execute(query)).scalar()
    return recorded


async def metadata_between(engine: AsyncEngine, after: int, through: int) -> list[JsonObject]:
    """The metadata of every event after position `after` up to `through`, in order."""
    query = (
        select(events.c.metadata)
        .where(events.c.position > after, events.c.position <= through)
        .order_by(events.c.position)
    )
    async with engine.connect() as conn:
        return [dict(metadata) for metadata in (await conn.execute(query)).scalars()]
