"""GraphQL input types, each turning itself into exactly one command."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import strawberry

from handlers.commands import AddOrderItem, CancelOrder, CreateOrder, RemoveOrderItem, ShipOrder
from handlers.events import Address, OrderLine
from schema.errors import ClientError
from schema.strawberry_hooks import built_directly


def parse_id(value: strawberry.ID | str, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ClientError(f"{field} must be a UUID, not {str(value)[:64]!r}", field=field) from None


def command_id(value: strawberry.ID | None) -> dict[str, Any]:
    """The command_id argument: the client's, or a fresh one when it gave none."""
    return {"command_id": uuid4() if value is None else parse_id(value, "commandId")}


@built_directly
@strawberry.input
class OrderItemInput:
    product_id: strawberry.ID
    quantity: int
    unit_price: Decimal


@built_directly
@strawberry.input
class AddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None

    def to_address(self) -> Address:
        return Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
        )


@built_directly
@strawberry.input
class CreateOrderInput:
    customer_id: strawberry.ID
    items: list[OrderItemInput]
    shipping_address: AddressInput
    command_id: strawberry.ID | None = None

    def to_command(self) -> CreateOrder:
        return CreateOrder(
            customer_id=str(self.customer_id),
            items=tuple(
                OrderLine(
                    product_id=str(i.product_id), quantity=i.quantity, unit_price=i.unit_price
                )
                for i in self.items
            ),
            shipping_address=self.shipping_address.to_address(),
            **command_id(self.command_id),
        )


@built_directly
@strawberry.input
class AddOrderItemInput:
    order_id: strawberry.ID
    product_id: strawberry.ID
    quantity: int
    unit_price: Decimal
    command_id: strawberry.ID | None = None
    expected_version: int | None = None

    def to_command(self) -> AddOrderItem:
        return AddOrderItem(
            order_id=parse_id(self.order_id, "orderId"),
            product_id=str(self.product_id),
            quantity=self.quantity,
            unit_price=self.unit_price,
            expected_version=self.expected_version,
            **command_id(self.command_id),
        )


@built_directly
@strawberry.input
class RemoveOrderItemInput:
    order_id: strawberry.ID
    product_id: strawberry.ID
    command_id: strawberry.ID | None = None
    expected_version: int | None = None

    def to_command(self) -> RemoveOrderItem:
        return RemoveOrderItem(
            order_id=parse_id(self.order_id, "orderId"),
            product_id=str(self.product_id),
            expected_version=self.expected_version,
            **command_id(self.command_id),
        )


@built_directly
@strawberry.input
class ShipOrderInput:
    order_id: strawberry.ID
    carrier: str
    tracking_number: str
    command_id: strawberry.ID | None = None
    expected_version: int | None = None

    def to_command(self) -> ShipOrder:
        return ShipOrder(
            order_id=parse_id(self.order_id, "orderId"),
            carrier=self.carrier,
            tracking_number=self.tracking_number,
            expected_version=self.expected_version,
            **command_id(self.command_id),
        )


@built_directly
@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str
    command_id: strawberry.ID | None = None
    expected_version: int | None = None

    def to_command(self) -> CancelOrder:
        return CancelOrder(
            order_id=parse_id(self.order_id, "orderId"),
            reason=self.reason,
            expected_version=self.expected_version,
            **command_id(self.command_id),
        )
