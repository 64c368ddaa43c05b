"""Ready-made commands and events for tests, so each test shows only what matters to it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from handlers.commands import CreateOrder
from handlers.events import Address, OrderCreated, OrderLine

WHEN = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
HOME = Address(
    name="Ada Lovelace",
    line1="12 St James's Sq",
    line2=None,
    city="London",
    postal_code="SW1Y 4JH",
    country="GB",
)
MUG = OrderLine(product_id="mug", quantity=2, unit_price=Decimal("9.99"))
TEAPOT = OrderLine(product_id="teapot", quantity=1, unit_price=Decimal("35.00"))


def create_order(*lines: OrderLine, customer_id: str = "ada", **overrides: object) -> CreateOrder:
    return CreateOrder(
        customer_id=customer_id,
        items=lines or (MUG,),
        shipping_address=HOME,
        **overrides,  # type: ignore[arg-type]
    )


def created(*lines: OrderLine, order_id: UUID | None = None) -> OrderCreated:
    return OrderCreated(
        order_id=order_id or uuid4(),
        customer_id="ada",
        items=lines or (MUG,),
        shipping_address=HOME,
        occurred_at=WHEN,
    )
