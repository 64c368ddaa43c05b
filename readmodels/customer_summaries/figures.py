"""What the customer_summaries projection remembers of one order, and how it evolves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventstore import LoggedEvent
from handlers.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderShipped,
)
from readmodels.results import OrderStatus
from readmodels.sql import Row, cents

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


# customer_orders' columns, in the order of order_values
ORDER_COLUMNS = ("order_id", "status", "customer_id", "total_cents")


def figures_of(row: Mapping[str, Any]) -> Figures:
    """The figures of a customer_orders row."""
    return Figures(row["customer_id"], OrderStatus(row["status"]), row["total_cents"])


def order_values(order_id: UUID, figures: Figures) -> tuple[Any, ...]:
    """The customer_orders row of an order, its values in the order of ORDER_COLUMNS."""
    return (order_id, figures.status.value, figures.customer_id, figures.total_cents)


@dataclass(frozen=True, slots=True)
class Folded:
    """A batch folded into what the orders it touched were before it."""

    before: dict[UUID, Figures]
    after: dict[UUID, Figures]
    last_order: dict[str, datetime]  # per customer, the latest order the batch created

    def summary_rows(self, touched: list[UUID]) -> list[Row]:
        """Per customer, what the summary changes by (rows for the upsert that adds
        them), with its latest order."""
        return [
            {"customer_id": customer, **delta, "last_order_at": self.last_order.get(customer)}
            for customer, delta in deltas(touched, self.before, self.after).items()
        ]


def fold(batch: Sequence[tuple[LoggedEvent, OrderEvent]], before: dict[UUID, Figures]) -> Folded:
    """The batch's events folded into the figures of the orders they touch, given what
    those created before the batch were."""
    after = dict(before)
    last_order: dict[str, datetime] = {}
    for _, event in batch:
        after[event.order_id] = evolve(after.get(event.order_id), event)
        if isinstance(event, OrderCreated):
            seen = last_order.get(event.customer_id, event.occurred_at)
            last_order[event.customer_id] = max(seen, event.occurred_at)
    return Folded(before, after, last_order)


def deltas(
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
