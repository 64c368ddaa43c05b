"""order_views rebuilt a window at a time into a table a rebuild emptied.

An order first created in the window is a new row, written once (sql.insert_new: COPY
on PostgreSQL); an order created in an earlier window is folded on from what the last
window made of it, or else read back, and updated. Orders live a few events close
together in the log, so the second kind is few, and nearly all of them were touched by
the window before.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore import LoggedEvent
from readmodels.order_views.fold import evolve
from readmodels.order_views.table import COLUMNS, row_of, row_values, view_from
from readmodels.projection import (
    WindowWrite,
    created_and_earlier,
    decoded_in_turns,
    folded_before,
    in_turns,
)
from readmodels.results import OrderView
from readmodels.sql import insert_new, upsert


class OrderViewsReplay:
    """order_views' `Replay` (readmodels/projection.py): one rebuild's fold."""

    def __init__(self, order_views: Table) -> None:
        self._order_views = order_views
        # the orders the last window folded touched, as its write leaves them: at most a
        # window's worth, the bound of this fold's memory
        self._last: dict[UUID, OrderView] = {}

    async def fold(self, engine: AsyncEngine, events: Sequence[LoggedEvent]) -> WindowWrite:
        order_views = self._order_views
        batch = await decoded_in_turns(events)
        created, earlier = created_and_earlier(batch)
        views = await folded_before(engine, order_views, earlier, self._last, view_from)
        async for part in in_turns(batch):
            for recorded, event in part:
                views[event.order_id] = evolve(
                    views.get(event.order_id), event, recorded.version, recorded.position
                )
        self._last = views
        new_rows = [row_values(view) for order_id, view in views.items() if order_id in created]
        changed_rows = [row_of(views[order_id]) for order_id in earlier]

        async def write(conn: AsyncConnection) -> None:
            await insert_new(conn, order_views, COLUMNS, new_rows)
            await upsert(conn, order_views, changed_rows, key=["order_id"])

        return write
