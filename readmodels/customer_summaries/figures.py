"""What the customer_summaries projection remembers of one order, and how it evolves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
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
# where each status counts in a customer's COUNTS
_STATUS_COUNT = {OrderStatus.PENDING: 1, OrderStatus.SHIPPED: 2, OrderStatus.CANCELLED: 3}


class Figures(NamedTuple):
    """What the summaries need to remember of one order (a tuple: a rebuild makes one
    per event, and a tuple is the cheapest immutable record to make)."""

    customer_id: str
    status: OrderStatus
    total_cents: int


def evolve(figures: Figures | None, event: OrderEvent) -> Figures:
    # by exact type: events are final classes, and the fold runs once per event
    kind = type(event)
    if kind is OrderCreated:
        assert isinstance(event, OrderCreated)
        if figures is not None:
            raise ValueError(f"order {event.order_id} is created twice")
        total = sum(cents(line.line_total) for line in event.items)
        return Figures(event.customer_id, OrderStatus.PENDING, total)
    if figures is None:
        raise ValueError(f"order {event.order_id} has no OrderCreated before {kind.__name__}")
    customer_id, status, total_cents = figures
    if kind is OrderItemAdded:
        assert isinstance(event, OrderItemAdded)
        return Figures(customer_id, status, total_cents + cents(event.quantity * event.unit_price))
    if kind is OrderItemRemoved:
        assert isinstance(event, OrderItemRemoved)
        # the event says what the removed line was worth; the lines live in order_views
        return Figures(customer_id, status, total_cents - cents(event.quantity * event.unit_price))
    if kind is OrderShipped:
        return Figures(customer_id, OrderStatus.SHIPPED, total_cents)
    if kind is OrderCancelled:
        return Figures(customer_id, OrderStatus.CANCELLED, total_cents)
    raise AssertionError(f"unhandled event {kind.__name__}")


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
            {
                "customer_id": customer,
                **dict(zip(COUNTS, delta, strict=True)),
                "last_order_at": self.last_order.get(customer),
            }
            for customer, delta in deltas(touched, self.before, self.after).items()
        ]


def fold(batch: Sequence[tuple[LoggedEvent, OrderEvent]], before: dict[UUID, Figures]) -> Folded:
    """The batch's events folded into the figures of the orders they touch, given what
    those created before the batch were."""
    after = dict(before)
    last_order: dict[str, datetime] = {}
    for _, event in batch:
        order_id = event.order_id
        after[order_id] = evolve(after.get(order_id), event)
        if type(event) is OrderCreated:
            seen = last_order.get(event.customer_id)
            if seen is None or event.occurred_at > seen:
                last_order[event.customer_id] = event.occurred_at
    return Folded(before, after, last_order)


def deltas(
    touched: list[UUID], before: dict[UUID, Figures], after: dict[UUID, Figures]
) -> dict[str, list[int]]:
    """Per customer, what the touched orders add to each of COUNTS now minus what they
    added before: summaries change by these deltas, so no summary row has to be read."""
    deltas: dict[str, list[int]] = {}
    for order_id in touched:
        old = before.get(order_id)
        if old is not None:
            _add_share(deltas, old, -1)
        _add_share(deltas, after[order_id], 1)
    return deltas


def _add_share(deltas: dict[str, list[int]], figures: Figures, sign: int) -> None:
    """Add `sign` times one order's share of its customer's summary."""
    customer_id, status, total_cents = figures
    delta = deltas.get(customer_id)
    if delta is None:
        delta = deltas[customer_id] = [0, 0, 0, 0, 0]
    delta[0] += sign
    delta[_STATUS_COUNT[status]] += sign
    if status is not OrderStatus.CANCELLED:
        delta[4] += sign * total_cents
