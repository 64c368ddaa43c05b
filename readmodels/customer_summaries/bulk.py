"""customer_summaries replayed a window at a time into tables a rebuild emptied.

customer_orders as order_views/bulk.py does order_views: an order first created in the
window is a new row (sql.insert_new: COPY on PostgreSQL), one created earlier is read
back and updated. The summaries change by the window's deltas, one upsert of a row per
customer the window touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import LoggedEvent
from readmodels.customer_summaries.figures import ORDER_COLUMNS, figures_of, fold, order_values
from readmodels.projection import created_and_earlier, decoded
from readmodels.sql import Update, insert_new, rows_by_key, upsert


async def replay_window(
    conn: AsyncConnection,
    summaries: Table,
    orders: Table,
    added_to_summary: Update,
    events: Sequence[LoggedEvent],
) -> None:
    batch = decoded(events)
    created, earlier = created_and_earlier(batch)
    known = await rows_by_key(conn, orders, orders.c.order_id, list(earlier))
    folded = fold(batch, {row["order_id"]: figures_of(row) for row in known})
    after = folded.after
    await insert_new(
        conn,
        orders,
        ORDER_COLUMNS,
        [order_values(order_id, after[order_id]) for order_id in created],
    )
    await upsert(
        conn,
        orders,
        [
            dict(zip(ORDER_COLUMNS, order_values(order_id, after[order_id]), strict=True))
            for order_id in earlier
        ],
        key=["order_id"],
    )
    await upsert(
        conn,
        summaries,
        folded.summary_rows(list(after)),
        key=["customer_id"],
        update=added_to_summary,
    )
