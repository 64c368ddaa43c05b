"""The Order aggregate as two pure functions: decide(state, command) and evolve(state, event)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import assert_never
from uuid import UUID

from handlers import validation
from handlers.commands import (
    AddOrderItem,
    CancelOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from handlers.errors import InvalidInput, InvalidState, OrderNotFound
from handlers.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderLine,
    OrderShipped,
)


class Status(enum.Enum):
    PENDING = "PENDING"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """What decisions need to know of one order; status None means it does not exist."""

    id: UUID
    status: Status | None = None
    # whose order it is: the write side authorizes customers from the order's own events
    customer_id: str | None = None
    lines: tuple[OrderLine, ...] = field(default=())

    def line(self, product_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.product_id == product_id), None)


def evolve(order: Order, event: OrderEvent) -> Order:
    match event:
        case OrderCreated():
            return Order(
                id=event.order_id,
                status=Status.PENDING,
                customer_id=event.customer_id,
                lines=event.items,
            )
        case OrderItemAdded():
            added = OrderLine(
                product_id=event.product_id, quantity=event.quantity, unit_price=event.unit_price
            )
            present = order.line(event.product_id)
            if present is None:
                return dataclasses.replace(order, lines=(*order.lines, added))
            summed = dataclasses.replace(present, quantity=present.quantity + event.quantity)
            return _with_line(order, summed)
        case OrderItemRemoved():
            kept = tuple(line for line in order.lines if line.product_id != event.product_id)
            return dataclasses.replace(order, lines=kept)
        case OrderShipped():
            return dataclasses.replace(order, status=Status.SHIPPED)
        case OrderCancelled():
            return dataclasses.replace(order, status=Status.CANCELLED)
        case _:
            assert_never(event)


def fold(order_id: UUID, events: Iterable[OrderEvent]) -> Order:
    order = Order(id=order_id)
    for event in events:
        order = evolve(order, event)
    return order


def decide(order: Order, command: OrderCommand) -> list[OrderEvent]:
    """The events that carrying out `command` on `order` produces, or a DomainError.

    `command` has passed `validation.validated` (the handler validates before it loads the
    order); what is left to check here depends on the order.
    """
    if isinstance(command, CreateOrder):
        if order.status is not None:
            raise InvalidState(f"order {order.id} already exists")
        return [
            OrderCreated(
                order_id=command.order_id,
                customer_id=command.customer_id,
                items=command.items,
                shipping_address=command.shipping_address,
                occurred_at=command.timestamp,
            )
        ]
    if order.status is None:
        raise OrderNotFound(order.id)
    if order.status is not Status.PENDING:
        raise InvalidState(
            f"order {order.id} is {order.status.value}; only a PENDING order can be changed, "
            "shipped or cancelled"
        )
    match command:
        case AddOrderItem():
            return [_add(order, command)]
        case RemoveOrderItem():
            return [_remove(order, command)]
        case ShipOrder():
            return [
                OrderShipped(
                    order_id=order.id,
                    carrier=command.carrier,
                    tracking_number=command.tracking_number,
                    occurred_at=command.timestamp,
                )
            ]
        case CancelOrder():
            return [
                OrderCancelled(
                    order_id=order.id, reason=command.reason, occurred_at=command.timestamp
                )
            ]
        case _:
            assert_never(command)


def _add(order: Order, command: AddOrderItem) -> OrderItemAdded:
    added = OrderLine(
        product_id=command.product_id, quantity=command.quantity, unit_price=command.unit_price
    )
    present = order.line(command.product_id)
    if present is None and len(order.lines) >= validation.MAX_LINES:
        raise InvalidInput(f"an order holds at most {validation.MAX_LINES} lines", "product_id")
    if present is not None:
        validation.joined(present, added)  # same price, and the summed quantity stays in range
    return OrderItemAdded(
        order_id=order.id,
        product_id=added.product_id,
        quantity=added.quantity,
        unit_price=added.unit_price,
        occurred_at=command.timestamp,
    )


def _remove(order: Order, command: RemoveOrderItem) -> OrderItemRemoved:
    line = order.line(command.product_id)
    if line is None:
        raise InvalidInput(f"product {command.product_id} is not on order {order.id}", "product_id")
    if len(order.lines) == 1:
        raise InvalidState(f"cannot remove the last item of order {order.id}; cancel it instead")
    return OrderItemRemoved(
        order_id=order.id,
        product_id=line.product_id,
        quantity=line.quantity,
        unit_price=line.unit_price,
        occurred_at=command.timestamp,
    )


def _with_line(order: Order, replacement: OrderLine) -> Order:
    lines = tuple(
        replacement if line.product_id == replacement.product_id else line for line in order.lines
    )
    return dataclasses.replace(order, lines=lines)
