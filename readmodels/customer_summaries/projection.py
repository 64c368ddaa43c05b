"""The customer_summaries projection: per-customer counts and spend, updated by deltas."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import MetaData, Table, case, or_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from eventstore import LoggedEvent
from handlers.events import OrderCreated
from readmodels.customer_summaries import bulk
from readmodels.customer_summaries.figures import COUNTS, Figures, deltas, evolve
from readmodels.customer_summaries.table import customer_orders_table, customer_summaries_table
from readmodels.projection import ORDER_EVENT_TYPES, decoded
from readmodels.results import OrderStatus
from readmodels.sql import rows_by_key, upsert


class CustomerSummariesProjection:
    name = "customer_summaries"
    version = 1
    handles = ORDER_EVENT_TYPES

    def __init__(self, suffix: str = "") -> None:
        """Writes the live tables, or with a suffix copies beside them: each instance
        carries its own tables, so one built beside the live one writes only its copies."""
        tables = MetaData()
        self.customer_summaries = customer_summaries_table(f"customer_summaries{suffix}", tables)
        self.customer_orders = customer_orders_table(f"customer_orders{suffix}", tables)
        # in the order apply writes them: a shadow build's switch takes them in this order
        self.tables: tuple[Table, ...] = (self.customer_orders, self.customer_summaries)
        # made once: sql.upsert keeps its statement per update function
        self._added_to_summary = functools.partial(_added_to_summary, self.customer_summaries)

    def in_tables(self, suffix: str) -> CustomerSummariesProjection:
        return type(self)(suffix)

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        customer_orders, customer_summaries = self.customer_orders, self.customer_summaries
        batch = decoded(events)
        touched = list(dict.fromkeys(event.order_id for _, event in batch))
        known = await rows_by_key(conn, customer_orders, customer_orders.c.order_id, touched)
        before = {
            row["order_id"]: Figures(
                row["customer_id"], OrderStatus(row["status"]), row["total_cents"]
            )
            for row in known
        }
        after: dict[UUID, Figures] = dict(before)
        last_order: dict[str, datetime] = {}
        for _, event in batch:
            after[event.order_id] = evolve(after.get(event.order_id), event)
            if isinstance(event, OrderCreated):
                seen = last_order.get(event.customer_id, event.occurred_at)
                last_order[event.customer_id] = max(seen, event.occurred_at)
        order_rows = [
            {
                "order_id": order_id,
                "status": after[order_id].status.value,
                "customer_id": after[order_id].customer_id,
                "total_cents": after[order_id].total_cents,
            }
            for order_id in touched
        ]
        await upsert(conn, customer_orders, order_rows, key=["order_id"])
        summary_rows = [
            {"customer_id": customer, **delta, "last_order_at": last_order.get(customer)}
            for customer, delta in deltas(touched, before, after).items()
        ]
        await upsert(
            conn,
            customer_summaries,
            summary_rows,
            key=["customer_id"],
            update=self._added_to_summary,
        )

    async def replay_window(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        await bulk.replay_window(
            conn, self.customer_summaries, self.customer_orders, self._added_to_summary, events
        )


def _added_to_summary(summaries: Table, new: Any) -> dict[str, ColumnElement[Any]]:
    table = summaries.c
    later = or_(table.last_order_at.is_(None), new.last_order_at > table.last_order_at)
    return {
        **{name: table[name] + new[name] for name in COUNTS},
        "last_order_at": case((later, new.last_order_at), else_=table.last_order_at),
    }
