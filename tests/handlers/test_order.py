"""The Order aggregate's rules as given (past events), when (a command), then (events or error)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from handlers.commands import AddOrderItem, CancelOrder, OrderCommand, RemoveOrderItem, ShipOrder
from handlers.errors import InvalidInput, InvalidState, OrderNotFound
from handlers.events import (
    Address,
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderLine,
    OrderShipped,
)
from handlers.order import Order, Status, decide, fold
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


def test_create_order_records_the_cleaned_input() -> None:
    command = create_order(
        OrderLine(product_id="  mug ", quantity=2, unit_price=Decimal("9.9")),
        customer_id=" ada ",
    )
    [event] = decide(Order(id=command.order_id), command)
    assert event == OrderCreated(
        order_id=command.order_id,
        customer_id="ada",
        items=(OrderLine(product_id="mug", quantity=2, unit_price=Decimal("9.90")),),
        shipping_address=HOME,
        occurred_at=command.timestamp,
    )


def test_create_order_merges_repeated_products_at_one_price() -> None:
    command = create_order(MUG, MUG)
    [event] = decide(Order(id=command.order_id), command)
    assert isinstance(event, OrderCreated)
    assert event.items == (dataclasses.replace(MUG, quantity=4),)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ((), "items"),
        ((dataclasses.replace(MUG, quantity=0),), "items[0].quantity"),
        ((dataclasses.replace(MUG, quantity=10_001),), "items[0].quantity"),
        ((dataclasses.replace(MUG, unit_price=Decimal("-0.01")),), "items[0].unit_price"),
        ((dataclasses.replace(MUG, unit_price=Decimal("1.001")),), "items[0].unit_price"),
        ((dataclasses.replace(MUG, unit_price=Decimal("1000000.01")),), "items[0].unit_price"),
        ((dataclasses.replace(MUG, unit_price=Decimal("NaN")),), "items[0].unit_price"),
        ((dataclasses.replace(MUG, product_id="   "),), "items[0].product_id"),
        ((dataclasses.replace(MUG, product_id="x" * 201),), "items[0].product_id"),
        ((MUG, dataclasses.replace(MUG, unit_price=Decimal("1.00"))), "items[1].unit_price"),
        (tuple(dataclasses.replace(MUG, product_id=f"p{i}") for i in range(101)), "items"),
    ],
)
def test_create_order_refuses_bad_items(lines: tuple[OrderLine, ...], field: str) -> None:
    command = create_order()
    command = dataclasses.replace(command, items=lines)
    assert refusal(Order(id=command.order_id), command).field == field


@pytest.mark.parametrize(
    ("address", "field"),
    [
        (dataclasses.replace(HOME, name=" "), "shipping_address.name"),
        (dataclasses.replace(HOME, city="c" * 201), "shipping_address.city"),
        (dataclasses.replace(HOME, line2="l" * 201), "shipping_address.line2"),
        (dataclasses.replace(HOME, country=""), "shipping_address.country"),
    ],
)
def test_create_order_refuses_a_bad_address(address: Address, field: str) -> None:
    command = dataclasses.replace(create_order(), shipping_address=address)
    assert refusal(Order(id=command.order_id), command).field == field


def test_create_order_accepts_the_limits() -> None:
    top = OrderLine(product_id="p" * 200, quantity=10_000, unit_price=Decimal("1000000"))
    command = create_order(top, *(dataclasses.replace(MUG, product_id=f"p{i}") for i in range(99)))
    [event] = decide(Order(id=command.order_id), command)
    assert isinstance(event, OrderCreated)
    assert len(event.items) == 100


def test_a_blank_customer_is_refused() -> None:
    command = create_order(customer_id="  ")
    assert refusal(Order(id=command.order_id), command).field == "customer_id"


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


@pytest.mark.parametrize(
    ("quantity", "price", "field"), [(0, "1", "quantity"), (1, "-1", "unit_price")]
)
def test_adding_a_bad_item_is_refused(quantity: int, price: str, field: str) -> None:
    assert refusal(given(START), add("teapot", quantity, price)).field == field


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
    [event] = decide(given(START), cancel(" too slow "))
    assert event == OrderCancelled(order_id=ORDER_ID, reason="too slow", occurred_at=WHEN)


@pytest.mark.parametrize("reason", ["", "   ", "r" * 501])
def test_cancelling_needs_a_reason_of_at_most_500_characters(reason: str) -> None:
    assert refusal(given(START), cancel(reason)).field == "reason"


@pytest.mark.parametrize("blank", ["carrier", "tracking_number"])
def test_shipping_needs_carrier_and_tracking_number(blank: str) -> None:
    command = dataclasses.replace(ship(), **{blank: " "})
    assert refusal(given(START), command).field == blank


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
