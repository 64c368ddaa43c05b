"""What the customer_summaries projection remembers of one order, and how it evolves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from handlers.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderShipped,
)
from readmodels.results import OrderStatus
from readmodels.sql import cents

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
