"""The Order aggregate's rules as given (past events), when (a valid command), then (events or
error); the input rules every command meets first are in test_validation.py."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from handlers.aggregate import Order, Status, decide, fold
from handlers.commands import AddOrderItem, CancelOrder, OrderCommand, RemoveOrderItem, ShipOrder
from handlers.errors import InvalidInput, InvalidState, OrderNotFound
from handlers.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderShipped,
)
from tests.handlers.builders import HOME, MUG, TEAPOT, WHEN, create_order, created

START = created(MUG)
ORDER_ID = START.order_id


def given(*events: OrderEvent) -> Order:
    return fold(ORDER_ID, events)


def add(product_id: str = "mug", quantity: int = 1, price: str = "9.99") -> AddOrderItem:
    return AddOrderItem(
        order_id=ORDER_ID,
        product_id=product_id,
        quantity=quantity,
        unit_price=Decimal(price),
        timestamp=WHEN,
    )


def ship() -> ShipOrder:
    return ShipOrder(order_id=ORDER_ID, carrier="DHL", tracking_number="JD0001", timestamp=WHEN)


def cancel(reason: str = "changed my mind") -> CancelOrder:
    return CancelOrder(order_id=ORDER_ID, reason=reason, timestamp=WHEN)


def remove(product_id: str) -> RemoveOrderItem:
    return RemoveOrderItem(order_id=ORDER_ID, product_id=product_id, timestamp=WHEN)


def shipped() -> OrderShipped:
    return OrderShipped(order_id=ORDER_ID, carrier="DHL", tracking_number="JD1", occurred_at=WHEN)


def cancelled() -> OrderCancelled:
    return OrderCancelled(order_id=ORDER_ID, reason="no", occurred_at=WHEN)


def teapot_added() -> OrderItemAdded:
    return OrderItemAdded(
        order_id=ORDER_ID,
        product_id="teapot",
        quantity=1,
        unit_price=Decimal("35.00"),
        occurred_at=WHEN,
    )


def refusal(order: Order, command: OrderCommand) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        decide(order, command)
    return caught.value


# creating


def test_create_order_records_the_order_as_asked() -> None:
    command = create_order(MUG, TEAPOT)
    [event] = decide(Order(id=command.order_id), command)
    assert event == OrderCreated(
        order_id=command.order_id,
        customer_id="ada",
        items=(MUG, TEAPOT),
        shipping_address=HOME,
        occurred_at=command.timestamp,
    )


# changing items


def test_adding_a_new_product_adds_a_line() -> None:
    [event] = decide(given(START), add("teapot", 1, "35.00"))
    assert event == teapot_added()


def test_adding_a_present_product_adds_to_its_line() -> None:
    order = given(
        START,
        OrderItemAdded(
            order_id=ORDER_ID,
            product_id="mug",
            quantity=3,
            unit_price=Decimal("9.99"),
            occurred_at=WHEN,
        ),
    )
    assert order.lines == (dataclasses.replace(MUG, quantity=5),)


def test_adding_a_present_product_at_another_price_is_refused() -> None:
    assert refusal(given(START), add("mug", 1, "5.00")).field == "unit_price"


def test_adding_past_the_line_quantity_limit_is_refused() -> None:
    assert refusal(given(START), add("mug", 9_999)).field == "quantity"


def test_removing_a_line_records_what_it_held() -> None:
    [event] = decide(given(START, teapot_added()), remove("teapot"))
    assert event == OrderItemRemoved(
        order_id=ORDER_ID,
        product_id="teapot",
        quantity=1,
        unit_price=Decimal("35.00"),
        occurred_at=WHEN,
    )
    assert given(START, teapot_added(), event).lines == (MUG,)


def test_removing_a_product_not_on_the_order_is_refused() -> None:
    assert refusal(given(START), remove("teapot")).field == "product_id"


def test_removing_the_last_item_is_refused() -> None:
    with pytest.raises(InvalidState, match="cancel it instead"):
        decide(given(START), remove("mug"))


# shipping and cancelling


def test_shipping_a_pending_order() -> None:
    [event] = decide(given(START), ship())
    assert event == OrderShipped(
        order_id=ORDER_ID, carrier="DHL", tracking_number="JD0001", occurred_at=WHEN
    )
    assert given(START, event).status is Status.SHIPPED


def test_cancelling_a_pending_order() -> None:
    [event] = decide(given(START), cancel("too slow"))
    assert event == OrderCancelled(order_id=ORDER_ID, reason="too slow", occurred_at=WHEN)


@pytest.mark.parametrize(
    "history", [(START, shipped()), (START, cancelled())], ids=["shipped", "cancelled"]
)
@pytest.mark.parametrize(
    "command",
    [add("teapot"), remove("mug"), ship(), cancel()],
    ids=["add", "remove", "ship", "cancel"],
)
def test_only_pending_orders_take_commands(
    history: tuple[OrderEvent, ...], command: OrderCommand
) -> None:
    with pytest.raises(InvalidState):
        decide(given(*history), command)


@pytest.mark.parametrize(
    "command", [add(), remove("mug"), ship(), cancel()], ids=["add", "remove", "ship", "cancel"]
)
def test_commands_on_a_missing_order_are_not_found(command: OrderCommand) -> None:
    with pytest.raises(OrderNotFound):
        decide(given(), command)


def test_creating_an_existing_order_is_refused() -> None:
    with pytest.raises(InvalidState):
        decide(given(START), create_order(order_id=ORDER_ID))


def test_the_order_state_follows_its_events() -> None:
    order = given(START, teapot_added(), cancelled())
    assert order.status is Status.CANCELLED
    assert order.lines == (MUG, TEAPOT)
    assert order.customer_id == "ada"
