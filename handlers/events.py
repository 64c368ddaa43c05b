"""Domain events of an order, the value objects they carry, and their codec.

The read side imports this module and nothing else of the write side.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from eventstore import EventCodec, UtcDateTime
from eventstore.records import JsonObject

STREAM_TYPE = "Order"


def stream_id_of(order_id: UUID) -> str:
    return f"{STREAM_TYPE}-{order_id}"


def order_id_of(stream_id: str) -> UUID:
    return UUID(stream_id.removeprefix(f"{STREAM_TYPE}-"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    product_id: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreated:
    order_id: UUID
    customer_id: str
    items: tuple[OrderLine, ...]
    shipping_address: Address
    occurred_at: UtcDateTime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItemAdded:
    order_id: UUID
    product_id: str
    quantity: int
    unit_price: Decimal
    occurred_at: UtcDateTime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItemRemoved:
    """The whole line of one product left the order; quantity and price say what it was."""

    order_id: UUID
    product_id: str
    quantity: int
    unit_price: Decimal
    occurred_at: UtcDateTime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderShipped:
    order_id: UUID
    carrier: str
    tracking_number: str
    occurred_at: UtcDateTime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled:
    order_id: UUID
    reason: str
    occurred_at: UtcDateTime


OrderEvent = OrderCreated | OrderItemAdded | OrderItemRemoved | OrderShipped | OrderCancelled

codec = EventCodec()
codec.register(OrderCreated, name="OrderCreated")
# v1 stored the price as integer cents; v2 stores the exact Decimal like every other amount
codec.register(OrderItemAdded, name="OrderItemAdded", version=2)
codec.register(OrderItemRemoved, name="OrderItemRemoved")
codec.register(OrderShipped, name="OrderShipped")
codec.register(OrderCancelled, name="OrderCancelled")


@codec.upcaster("OrderItemAdded", from_version=1)
def _unit_price_from_cents(data: JsonObject) -> JsonObject:
    cents = data.pop("unit_price_cents")
    data["unit_price"] = str((Decimal(cents) / 100).quantize(Decimal("0.01")))
    return data
