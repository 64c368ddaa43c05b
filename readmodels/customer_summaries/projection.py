"""The customer_summaries projection: per-customer counts and spend, updated by deltas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, case, or_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from eventstore import LoggedEvent
from handlers.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderShipped,
)
from readmodels.customer_summaries.table import customer_orders, customer_summaries
from readmodels.projection import ORDER_EVENT_TYPES, decoded
from readmodels.results import OrderStatus
from readmodels.sql import cents, rows_by_key, upsert

COUNTS = ("order_count", "pending_count", "shipped_count", "cancelled_count", "total_spent_cents")
_STATUS_COUNT = {
    OrderStatus.PENDING: "pending_count",
    OrderStatus.SHIPPED: "shipped_count",
    OrderStatus.CANCELLED: "cancelled_count",
}


@dataclass(frozen=True, slots=True)
class Figures:
    """What the summaries need to remember of one order."""

    customer_id: str
    status: OrderStatus
    total_cents: int

    def counts(self) -> dict[str, int]:
        """This order's share of its customer's summary."""
        share = dict.fromkeys(COUNTS, 0)
        share["order_count"] = 1
        share[_STATUS_COUNT[self.status]] = 1
        if self.status is not OrderStatus.CANCELLED:
            share["total_spent_cents"] = self.total_cents
        return share


def evolve(figures: Figures | None, event: OrderEvent) -> Figures:
    if isinstance(event, OrderCreated):
        if figures is not None:
            raise ValueError(f"order {event.order_id} is created twice")
        total = sum(cents(line.line_total) for line in event.items)
        return Figures(event.customer_id, OrderStatus.PENDING, total)
    if figures is None:
        raise ValueError(
            f"order {event.order_id} has no OrderCreated before {type(event).__name__}"
        )
    match event:
        case OrderItemAdded(quantity=quantity, unit_price=price):
            return replace(figures, total_cents=figures.total_cents + cents(quantity * price))
        case OrderItemRemoved(quantity=quantity, unit_price=price):
            # the event says what the removed line was worth; the lines live in order_views
            return replace(figures, total_cents=figures.total_cents - cents(quantity * price))
        case OrderShipped():
            return replace(figures, status=OrderStatus.SHIPPED)
        case OrderCancelled():
            return replace(figures, status=OrderStatus.CANCELLED)
    raise AssertionError(f"unhandled event {type(event).__name__}")


class CustomerSummariesProjection:
    name = "customer_summaries"
    handles = ORDER_EVENT_TYPES
    tables: tuple[Table, ...] = (customer_summaries, customer_orders)

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
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
            for customer, delta in _deltas(touched, before, after).items()
        ]
        await upsert(
            conn, customer_summaries, summary_rows, key=["customer_id"], update=_added_to_summary
        )


def _deltas(
    touched: list[UUID], before: dict[UUID, Figures], after: dict[UUID, Figures]
) -> dict[str, dict[str, int]]:
    """Per customer, what the touched orders add now minus what they added before: summaries
    change by these deltas, so no summary row has to be read."""
    deltas: dict[str, dict[str, int]] = {}
    for order_id in touched:
        for figures, sign in ((before.get(order_id), -1), (after[order_id], 1)):
            if figures is not None:
                delta = deltas.setdefault(figures.customer_id, dict.fromkeys(COUNTS, 0))
                for name, value in figures.counts().items():
                    delta[name] += sign * value
    return deltas


def _added_to_summary(new: Any) -> dict[str, ColumnElement[Any]]:
    table = customer_summaries.c
    later = or_(table.last_order_at.is_(None), new.last_order_at > table.last_order_at)
    return {
        **{name: table[name] + new[name] for name in COUNTS},
        "last_order_at": case((later, new.last_order_at), else_=table.last_order_at),
    }
