"""order_views replayed a window at a time into a table a rebuild emptied.

An order first created in the window is a new row, written once (sql.insert_new: COPY
on PostgreSQL); an order created in an earlier window is read back, folded on and
updated. Orders live a few events close together in the log, so the second kind is few.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import LoggedEvent
from readmodels.order_views.fold import evolve
from readmodels.order_views.table import COLUMNS, row_of, row_values, view_from
from readmodels.projection import created_and_earlier, decoded
from readmodels.results import OrderView
from readmodels.sql import insert_new, rows_by_key, upsert


async def replay_window(
    conn: AsyncConnection, order_views: Table, events: Sequence[LoggedEvent]
) -> None:
    batch = decoded(events)
    created, earlier = created_and_earlier(batch)
    views: dict[UUID, OrderView] = {
        row["order_id"]: view_from(row)
        for row in await rows_by_key(conn, order_views, order_views.c.order_id, list(earlier))
    }
    for recorded, event in batch:
        views[event.order_id] = evolve(
            views.get(event.order_id), event, recorded.version, recorded.position
        )
    await insert_new(
        conn,
        order_views,
        COLUMNS,
        [row_values(view) for order_id, view in views.items() if order_id in created],
    )
    await upsert(
        conn, order_views, [row_of(views[order_id]) for order_id in earlier], key=["order_id"]
    )
