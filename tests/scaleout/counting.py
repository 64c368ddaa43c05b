"""A projection that counts how often each event is applied: a double application shows
as a row with applications > 1 (the runner commits it with the checkpoint, so only an
applied-and-committed batch counts)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import LoggedEvent
from readmodels.projection import ORDER_EVENT_TYPES

NAME = "scaleout_counts"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {NAME} "
    "(position bigint PRIMARY KEY, applications integer NOT NULL)"
)

# not in the service's metadata: the test creates the table with plain SQL
counts = Table(
    NAME,
    MetaData(),
    Column("position", BigInteger, primary_key=True),
    Column("applications", Integer, nullable=False),
)


class CountingProjection:
    name = NAME
    version = 1
    handles = ORDER_EVENT_TYPES
    tables: tuple[Table, ...] = (counts,)

    def in_tables(self, suffix: str) -> CountingProjection:
        return self

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        statement = insert(counts).values(
            [{"position": e.position, "applications": 1} for e in events]
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[counts.c.position],
                set_={"applications": counts.c.applications + 1},
            )
        )
