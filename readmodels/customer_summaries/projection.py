"""The customer_summaries projection: per-customer counts and spend, updated by deltas."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import MetaData, Table, case, or_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from eventstore import LoggedEvent
from readmodels.customer_summaries import bulk
from readmodels.customer_summaries.figures import (
    COUNTS,
    ORDER_COLUMNS,
    figures_of,
    fold,
    order_values,
)
from readmodels.customer_summaries.table import customer_orders_table, customer_summaries_table
from readmodels.projection import ORDER_EVENT_TYPES, decoded
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
        folded = fold(batch, {row["order_id"]: figures_of(row) for row in known})
        order_rows = [
            dict(zip(ORDER_COLUMNS, order_values(order_id, folded.after[order_id]), strict=True))
            for order_id in touched
        ]
        await upsert(conn, customer_orders, order_rows, key=["order_id"])
        await upsert(
            conn,
            customer_summaries,
            folded.summary_rows(touched),
            key=["customer_id"],
            update=self._added_to_summary,
        )

    def replay(self) -> bulk.CustomerSummariesReplay:
        return bulk.CustomerSummariesReplay(
            self.customer_summaries, self.customer_orders, self._added_to_summary
        )


def _added_to_summary(summaries: Table, new: Any) -> dict[str, ColumnElement[Any]]:
    table = summaries.c
    later = or_(table.last_order_at.is_(None), new.last_order_at > table.last_order_at)
    return {
        **{name: table[name] + new[name] for name in COUNTS},
        "last_order_at": case((later, new.last_order_at), else_=table.last_order_at),
    }
