"""The input rules every command meets before its order is looked at: a command comes out
cleaned, or refused with InvalidInput naming the field that broke a rule."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from uuid import uuid4

import pytest

from handlers.commands import AddOrderItem, CancelOrder, CreateOrder, OrderCommand, ShipOrder
from handlers.errors import InvalidInput
from handlers.events import Address, OrderLine
from handlers.validation import validated
from tests.handlers.builders import HOME, MUG, create_order

ORDER_ID = uuid4()


def refusal(command: OrderCommand) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validated(command)
    return caught.value


def add(quantity: int = 1, price: str = "9.99") -> AddOrderItem:
    return AddOrderItem(
        order_id=ORDER_ID, product_id="teapot", quantity=quantity, unit_price=Decimal(price)
    )


def ship() -> ShipOrder:
    return ShipOrder(order_id=ORDER_ID, carrier="DHL", tracking_number="JD0001")


def cancel(reason: str) -> CancelOrder:
    return CancelOrder(order_id=ORDER_ID, reason=reason)


# creating


def test_create_order_input_is_cleaned() -> None:
    command = create_order(
        OrderLine(product_id="  mug ", quantity=2, unit_price=Decimal("9.9")),
        customer_id=" ada ",
    )
    assert validated(command) == dataclasses.replace(
        command,
        customer_id="ada",
        items=(OrderLine(product_id="mug", quantity=2, unit_price=Decimal("9.90")),),
        shipping_address=HOME,
    )


def test_create_order_merges_repeated_products_at_one_price() -> None:
    command = validated(create_order(MUG, MUG))
    assert isinstance(command, CreateOrder)
    assert command.items == (dataclasses.replace(MUG, quantity=4),)


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
    command = dataclasses.replace(create_order(), items=lines)
    assert refusal(command).field == field


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
    assert refusal(command).field == field


def test_create_order_accepts_the_limits() -> None:
    top = OrderLine(product_id="p" * 200, quantity=10_000, unit_price=Decimal("1000000"))
    command = create_order(top, *(dataclasses.replace(MUG, product_id=f"p{i}") for i in range(99)))
    cleaned = validated(command)
    assert isinstance(cleaned, CreateOrder)
    assert len(cleaned.items) == 100


def test_a_blank_customer_is_refused() -> None:
    assert refusal(create_order(customer_id="  ")).field == "customer_id"


# changing, shipping and cancelling


@pytest.mark.parametrize(
    ("quantity", "price", "field"), [(0, "1", "quantity"), (1, "-1", "unit_price")]
)
def test_adding_a_bad_item_is_refused(quantity: int, price: str, field: str) -> None:
    assert refusal(add(quantity, price)).field == field


@pytest.mark.parametrize("reason", ["", "   ", "r" * 501])
def test_cancelling_needs_a_reason_of_at_most_500_characters(reason: str) -> None:
    assert refusal(cancel(reason)).field == "reason"


def test_a_cancel_reason_is_trimmed() -> None:
    command = cancel(" too slow ")
    assert validated(command) == dataclasses.replace(command, reason="too slow")


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (dataclasses.replace(ship(), carrier=" "), "carrier"),
        (dataclasses.replace(ship(), tracking_number=" "), "tracking_number"),
    ],
)
def test_shipping_needs_carrier_and_tracking_number(command: ShipOrder, field: str) -> None:
    assert refusal(command).field == field


def test_a_negative_expected_version_is_refused() -> None:
    assert refusal(dataclasses.replace(add(), expected_version=-1)).field == "expected_version"
