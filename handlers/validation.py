"""Input rules every command must meet before its order is even looked at.

Each check returns the normalized value (trimmed text, prices at two decimal places) or
raises InvalidInput naming the field, so a command is validated and cleaned in one pass.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation

from handlers.commands import (
    AddOrderItem,
    CancelOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from handlers.errors import InvalidInput
from handlers.events import Address, OrderLine

MAX_LINES = 100
MAX_QUANTITY = 10_000
MAX_UNIT_PRICE = Decimal("1000000")
MAX_TEXT = 200
MAX_REASON = 500
CENT = Decimal("0.01")


def validated(command: OrderCommand) -> OrderCommand:
    """The command with its input cleaned, or InvalidInput for the first broken rule."""
    if command.expected_version is not None and command.expected_version < 0:
        raise InvalidInput("expected_version must be 0 or more", "expected_version")
    match command:
        case CreateOrder():
            return dataclasses.replace(
                command,
                customer_id=text(command.customer_id, "customer_id"),
                items=lines(command.items),
                shipping_address=address(command.shipping_address),
            )
        case AddOrderItem():
            return dataclasses.replace(
                command,
                product_id=text(command.product_id, "product_id"),
                quantity=quantity(command.quantity, "quantity"),
                unit_price=unit_price(command.unit_price, "unit_price"),
            )
        case RemoveOrderItem():
            return dataclasses.replace(command, product_id=text(command.product_id, "product_id"))
        case ShipOrder():
            return dataclasses.replace(
                command,
                carrier=text(command.carrier, "carrier"),
                tracking_number=text(command.tracking_number, "tracking_number"),
            )
        case CancelOrder():
            return dataclasses.replace(command, reason=text(command.reason, "reason", MAX_REASON))


def text(value: str, field: str, limit: int = MAX_TEXT) -> str:
    stripped = value.strip()
    if not stripped:
        raise InvalidInput(f"{field} must not be blank", field)
    if len(stripped) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field)
    return stripped


def quantity(value: int, field: str) -> int:
    if not 1 <= value <= MAX_QUANTITY:
        raise InvalidInput(f"{field} must be between 1 and {MAX_QUANTITY}, not {value}", field)
    return value


def unit_price(value: Decimal, field: str) -> Decimal:
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"{field} must be a price of 0 or more, not {value}", field)
    if value > MAX_UNIT_PRICE:
        raise InvalidInput(f"{field} must be at most {MAX_UNIT_PRICE}", field)
    try:
        cents = value.quantize(CENT)
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a valid price", field) from None
    if cents != value:
        raise InvalidInput(f"{field} has more than 2 decimal places: {value}", field)
    return cents


def address(value: Address, field: str = "shipping_address") -> Address:
    line2 = value.line2.strip() if value.line2 is not None else None
    if line2 is not None and len(line2) > MAX_TEXT:
        raise InvalidInput(f"{field}.line2 is longer than {MAX_TEXT} characters", f"{field}.line2")
    return Address(
        name=text(value.name, f"{field}.name"),
        line1=text(value.line1, f"{field}.line1"),
        line2=line2 or None,
        city=text(value.city, f"{field}.city"),
        postal_code=text(value.postal_code, f"{field}.postal_code"),
        country=text(value.country, f"{field}.country"),
    )


def lines(items: tuple[OrderLine, ...], field: str = "items") -> tuple[OrderLine, ...]:
    """Validated lines, one per product: repeats of a product are summed into one line."""
    if not items:
        raise InvalidInput("an order needs at least one item", field)
    merged: dict[str, OrderLine] = {}
    for index, item in enumerate(items):
        at = f"{field}[{index}]"
        line = OrderLine(
            product_id=text(item.product_id, f"{at}.product_id"),
            quantity=quantity(item.quantity, f"{at}.quantity"),
            unit_price=unit_price(item.unit_price, f"{at}.unit_price"),
        )
        earlier = merged.get(line.product_id)
        merged[line.product_id] = line if earlier is None else joined(earlier, line, f"{at}.")
    if len(merged) > MAX_LINES:
        raise InvalidInput(f"an order holds at most {MAX_LINES} lines", field)
    return tuple(merged.values())


def joined(line: OrderLine, more: OrderLine, field_prefix: str = "") -> OrderLine:
    """One line holding both quantities of the same product, which must share its price."""
    if more.unit_price != line.unit_price:
        raise InvalidInput(
            f"product {line.product_id} is on the order at {line.unit_price}, "
            f"not {more.unit_price}",
            f"{field_prefix}unit_price",
        )
    return OrderLine(
        product_id=line.product_id,
        quantity=quantity(line.quantity + more.quantity, f"{field_prefix}quantity"),
        unit_price=line.unit_price,
    )
