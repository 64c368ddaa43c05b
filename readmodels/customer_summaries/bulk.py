"""customer_summaries replayed a window at a time into tables a rebuild emptied.

customer_orders as order_views/bulk.py does order_views: an order first created in the
window is a new row (sql.insert_new: COPY on PostgreSQL), one created earlier is read
back and updated. The summaries change by the window's deltas, one upsert of a row per
customer the window touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import LoggedEvent
from handlers.events import OrderCreated
from readmodels.customer_summaries.figures import Figures, deltas, evolve
from readmodels.projection import created_and_earlier, decoded
from readmodels.results import OrderStatus
from readmodels.sql import Row, Update, insert_new, rows_by_key, upsert


async def replay_window(
    conn: AsyncConnection,
    summaries: Table,
    orders: Table,
    added_to_summary: Update,
    events: Sequence[LoggedEvent],
) -> None:
    batch = decoded(events)
    created, earlier = created_and_earlier(batch)
    before = {
        row["order_id"]: Figures(row["customer_id"], OrderStatus(row["status"]), row["total_cents"])
        for row in await rows_by_key(conn, orders, orders.c.order_id, list(earlier))
    }
    after: dict[UUID, Figures] = dict(before)
    last_order: dict[str, datetime] = {}
    for _, event in batch:
        after[event.order_id] = evolve(after.get(event.order_id), event)
        if isinstance(event, OrderCreated):
            seen = last_order.get(event.customer_id, event.occurred_at)
            last_order[event.customer_id] = max(seen, event.occurred_at)
    await insert_new(conn, orders, [_order_row(order_id, after[order_id]) for order_id in created])
    await upsert(
        conn,
        orders,
        [_order_row(order_id, after[order_id]) for order_id in earlier],
        key=["order_id"],
    )
    summary_rows = [
        {"customer_id": customer, **delta, "last_order_at": last_order.get(customer)}
        for customer, delta in deltas(list(after), before, after).items()
    ]
    await upsert(conn, summaries, summary_rows, key=["customer_id"], update=added_to_summary)


def _order_row(order_id: UUID, figures: Figures) -> Row:
    return {
        "order_id": order_id,
        "status": figures.status.value,
        "customer_id": figures.customer_id,
        "total_cents": figures.total_cents,
    }
