"""Every order event and every upcast, through the log and back: money stays Decimal,
times stay aware UTC, on each backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventstore import EventStore, NewEvent
from handlers.events import (
    Address,
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderLine,
    OrderShipped,
    codec,
    stream_id_of,
)
from readmodels.projection import decoded
from tests.eventstore.test_codec import decode_text
from tests.eventstore.test_store import readable

ORDER = uuid4()
AT = datetime(2026, 3, 29, 1, 2, 3, 456789, tzinfo=UTC)
EVENTS: list[OrderEvent] = [
    OrderCreated(
        order_id=ORDER,
        customer_id="ada",
        items=(
            OrderLine(product_id="mug", quantity=2, unit_price=Decimal("9.90")),
            OrderLine(product_id="tea", quantity=1, unit_price=Decimal("1234567890.01")),
        ),
        shipping_address=Address(
            name="Ada",
            line1="1 Main St",
            line2=None,
            city="Zürich",
            postal_code="8000",
            country="CH",
        ),
        occurred_at=AT,
    ),
    OrderItemAdded(
        order_id=ORDER,
        product_id="pot",
        quantity=1,
        unit_price=Decimal("0.10"),
        occurred_at=AT + timedelta(seconds=1),
    ),
    OrderItemRemoved(
        order_id=ORDER,
        product_id="tea",
        quantity=1,
        unit_price=Decimal("1234567890.01"),
        occurred_at=AT + timedelta(seconds=2),
    ),
    OrderShipped(
        order_id=ORDER, carrier="DHL", tracking_number="T-1", occurred_at=AT + timedelta(seconds=3)
    ),
    OrderCancelled(order_id=ORDER, reason="late", occurred_at=AT + timedelta(seconds=4)),
]
# OrderItemAdded as the first release stored it: the price in integer cents
LEGACY_ITEM_ADDED = NewEvent(
    event_type="OrderItemAdded",
    schema_version=1,
    data={
        "order_id": str(ORDER),
        "product_id": "mug",
        "quantity": 3,
        "unit_price_cents": 999,
        "occurred_at": "2025-01-02T03:04:05+00:00",
    },
)
UPCAST = OrderItemAdded(
    order_id=ORDER,
    product_id="mug",
    quantity=3,
    unit_price=Decimal("9.99"),
    occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
)


def assert_exact(event: Any, expected: Any) -> None:
    """Equal, and with the same money and times: Decimals with their exponent, aware UTC."""
    assert event == expected
    for name in ("unit_price", "occurred_at"):
        if hasattr(expected, name):
            assert repr(getattr(event, name)) == repr(getattr(expected, name))
    for line, expected_line in zip(
        getattr(event, "items", ()), getattr(expected, "items", ()), strict=True
    ):
        assert repr(line.unit_price) == repr(expected_line.unit_price)
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_every_event_type_is_covered() -> None:
    assert {codec.name_of(type(event)) for event in EVENTS} == codec.names


def test_every_event_round_trips_through_json_text() -> None:
    for event in EVENTS:
        name, version, data = codec.encode(event)
        text = json.dumps(data)
        assert_exact(decode_text(codec, name, version, text), event)
        assert_exact(codec.decode(name, version, json.loads(text)), event)


def test_every_upcast_reads_as_the_current_class() -> None:
    text = json.dumps(LEGACY_ITEM_ADDED.data)
    assert_exact(decode_text(codec, "OrderItemAdded", 1, text), UPCAST)
    assert_exact(codec.decode("OrderItemAdded", 1, LEGACY_ITEM_ADDED.data), UPCAST)


async def test_every_event_and_upcast_round_trips_through_the_log(store: EventStore) -> None:
    encoded = [
        NewEvent(event_type=name, schema_version=version, data=data)
        for name, version, data in map(codec.encode, EVENTS)
    ]
    stream = stream_id_of(ORDER)
    last = await store.append(stream, "Order", [*encoded, LEGACY_ITEM_ADDED], 0, uuid4())
    await readable(store, last.position)
    expected = [*EVENTS, UPCAST]

    # the read side: JSON text decoded straight into the classes
    for (_, event), wanted in zip(decoded(await store.read_log(0)), expected, strict=True):
        assert_exact(event, wanted)
    # the write side: the JSON column's objects converted
    recorded = await store.read_stream(stream)
    for record, wanted in zip(recorded, expected, strict=True):
        assert_exact(codec.decode(record.event_type, record.schema_version, record.data), wanted)
