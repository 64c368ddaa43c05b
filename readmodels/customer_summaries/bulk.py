"""customer_summaries rebuilt a window at a time into tables a rebuild emptied.

customer_orders as order_views/bulk.py does order_views: an order first created in the
window is a new row (sql.insert_new: COPY on PostgreSQL), one created earlier is folded
on from what the last window made of it, or else read back, and updated. The summaries
change by the window's deltas, one upsert of a row per customer the window touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore import LoggedEvent
from readmodels.customer_summaries.figures import (
    ORDER_COLUMNS,
    Figures,
    figures_of,
    fold,
    order_values,
)
from readmodels.projection import (
    WindowWrite,
    created_and_earlier,
    decoded_in_turns,
    folded_before,
)
from readmodels.sql import Update, insert_new, upsert


class CustomerSummariesReplay:
    """customer_summaries' `Replay` (readmodels/projection.py): one rebuild's fold."""

    def __init__(self, summaries: Table, orders: Table, added_to_summary: Update) -> None:
        self._summaries = summaries
        self._orders = orders
        self._added_to_summary = added_to_summary
        # the orders the last window folded touched, as its write leaves them: at most a
        # window's worth, the bound of this fold's memory
        self._last: dict[UUID, Figures] = {}

    async def fold(self, engine: AsyncEngine, events: Sequence[LoggedEvent]) -> WindowWrite:
        orders = self._orders
        batch = await decoded_in_turns(events)
        created, earlier = created_and_earlier(batch)
        before = await folded_before(engine, orders, earlier, self._last, figures_of)
        folded = fold(batch, before)
        after = folded.after
        self._last = after
        new_rows = [order_values(order_id, after[order_id]) for order_id in created]
        changed_rows = [
            dict(zip(ORDER_COLUMNS, order_values(order_id, after[order_id]), strict=True))
            for order_id in earlier
        ]
        summary_rows = folded.summary_rows(list(after))

        async def write(conn: AsyncConnection) -> None:
            await insert_new(conn, orders, ORDER_COLUMNS, new_rows)
            await upsert(conn, orders, changed_rows, key=["order_id"])
            await upsert(
                conn,
                self._summaries,
                summary_rows,
                key=["customer_id"],
                update=self._added_to_summary,
            )

        return write
