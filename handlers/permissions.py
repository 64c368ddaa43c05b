"""What an actor may do: staff anything, a customer only their own orders.

The rules read the command and the order's own events, never a read model, which may lag
behind the log and would let a stale row decide.
"""

from __future__ import annotations

from handlers.actor import Actor
from handlers.aggregate import Order
from handlers.commands import CreateOrder, OrderCommand, ShipOrder
from handlers.errors import Forbidden, OrderNotFound


def refuse_forbidden(actor: Actor, command: OrderCommand) -> None:
    """Forbidden for what no order could permit: a customer creating an order for someone
    else, or shipping. Needs no stream, so it is checked before one is read."""
    if actor.is_staff:
        return
    match command:
        case CreateOrder() if command.customer_id != actor.sub:
            raise Forbidden(f"{actor.sub} may not create an order for another customer")
        case ShipOrder():
            raise Forbidden(f"{actor.sub} may not ship orders")
        case _:
            pass


def hide_others_orders(actor: Actor, command: OrderCommand, order: Order) -> None:
    """OrderNotFound when a customer's command names an order that is not theirs.

    A missing order fails the same test (it has no customer), so another customer's order
    and a missing one answer alike: the refusal does not reveal that the order exists.
    """
    if actor.is_staff or isinstance(command, CreateOrder):
        # a new order's customer was checked by refuse_forbidden; should its id be taken,
        # decide refuses it as existing whoever it belongs to
        return
    if order.customer_id != actor.sub:
        raise OrderNotFound(order.id)
