"""Commands through the CommandBus into a real event store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from uuid import uuid4

import pytest

from eventstore import EventStore, NewEvent
from handlers.actor import STAFF_ROLE, SYSTEM, Actor
from handlers.aggregate import fold
from handlers.bus import CommandBus
from handlers.commands import AddOrderItem, CancelOrder, ShipOrder
from handlers.errors import (
    InvalidInput,
    InvalidState,
    OrderNotFound,
    UnknownCommand,
    VersionConflict,
)
from handlers.events import OrderItemAdded, codec, stream_id_of
from tests.eventstore.test_store import count_events
from tests.handlers.builders import MUG, create_order


def add_mugs(order_id: object, **overrides: object) -> AddOrderItem:
    fields: dict[str, object] = {"product_id": "mug", "quantity": 1, "unit_price": Decimal("9.99")}
    return AddOrderItem(order_id=order_id, **(fields | overrides))  # type: ignore[arg-type]


async def test_create_order_appends_the_first_event_of_a_new_stream(
    bus: CommandBus, store: EventStore
) -> None:
    command = create_order()
    outcome = await bus.dispatch(command, SYSTEM)

    assert outcome.order_id == command.order_id
    assert outcome.stream_id == f"Order-{command.order_id}"
    assert (outcome.version, outcome.duplicate) == (1, False)
    [recorded] = await store.read_stream(outcome.stream_id)
    assert recorded.position == outcome.position
    assert recorded.event_type == "OrderCreated"
    assert recorded.metadata["command_id"] == str(command.command_id)
    assert recorded.metadata["correlation_id"] == str(command.command_id)


async def test_a_retried_create_returns_the_first_order(bus: CommandBus, store: EventStore) -> None:
    first = await bus.dispatch(create_order(), SYSTEM)
    # a retry builds a fresh command object: same command id, new service-chosen order id
    retry = dataclasses.replace(create_order(), command_id=first.command_id)

    again = await bus.dispatch(retry, SYSTEM)

    assert again.duplicate
    assert (again.order_id, again.version, again.position) == (
        first.order_id,
        first.version,
        first.position,
    )
    assert await count_events(store) == 1


async def test_a_retried_ship_after_success_is_a_duplicate_not_an_error(
    bus: CommandBus, store: EventStore
) -> None:
    created = await bus.dispatch(create_order(), SYSTEM)
    ship = ShipOrder(order_id=created.order_id, carrier="DHL", tracking_number="1")
    shipped = await bus.dispatch(ship, SYSTEM)

    again = await bus.dispatch(ship, SYSTEM)

    assert again.duplicate
    assert again.position == shipped.position
    assert await count_events(store) == 2


async def test_a_reused_command_id_for_another_command_is_bad_input(
    bus: CommandBus, store: EventStore
) -> None:
    created = await bus.dispatch(create_order(), SYSTEM)
    first = await bus.dispatch(add_mugs(created.order_id), SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        await bus.dispatch(
            add_mugs(created.order_id, command_id=first.command_id, quantity=5), SYSTEM
        )
    assert refused.value.field == "command_id"
    assert await count_events(store) == 2


async def test_expected_version_must_match(bus: CommandBus, store: EventStore) -> None:
    created = await bus.dispatch(create_order(), SYSTEM)
    with pytest.raises(VersionConflict, match="at version 1, not 3"):
        await bus.dispatch(add_mugs(created.order_id, expected_version=3), SYSTEM)
    outcome = await bus.dispatch(add_mugs(created.order_id, expected_version=1), SYSTEM)
    assert outcome.version == 2
    assert await count_events(store) == 2


async def test_commands_on_an_unknown_order_are_not_found(
    bus: CommandBus, store: EventStore
) -> None:
    with pytest.raises(OrderNotFound):
        await bus.dispatch(CancelOrder(order_id=uuid4(), reason="x"), SYSTEM)
    assert await count_events(store) == 0


async def test_an_unregistered_command_is_a_wiring_error(store: EventStore) -> None:
    with pytest.raises(UnknownCommand, match="CreateOrder"):
        await CommandBus().dispatch(create_order(), SYSTEM)


async def test_concurrent_commands_without_expected_version_all_land(
    bus: CommandBus, store: EventStore
) -> None:
    created = await bus.dispatch(create_order(), SYSTEM)

    outcomes = await asyncio.gather(
        *(bus.dispatch(add_mugs(created.order_id), SYSTEM) for _ in range(50))
    )

    assert sorted(o.version for o in outcomes) == list(range(2, 52))
    recorded = await store.read_stream(created.stream_id)
    assert [e.version for e in recorded] == list(range(1, 52))
    order = fold(
        created.order_id, (codec.decode(e.event_type, e.schema_version, e.data) for e in recorded)
    )
    assert order.lines == (dataclasses.replace(MUG, quantity=MUG.quantity + 50),)


async def test_concurrent_commands_at_one_expected_version_let_one_win(
    bus: CommandBus, store: EventStore
) -> None:
    created = await bus.dispatch(create_order(), SYSTEM)

    results = await asyncio.gather(
        *(bus.dispatch(add_mugs(created.order_id, expected_version=1), SYSTEM) for _ in range(10)),
        return_exceptions=True,
    )

    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, VersionConflict) for r in results if isinstance(r, BaseException))
    assert await count_events(store) == 2


async def test_a_version_1_item_event_is_upcast_on_read(bus: CommandBus, store: EventStore) -> None:
    created = await bus.dispatch(create_order(), SYSTEM)
    # an event as the first release of the service stored it: the price in integer cents
    legacy = NewEvent(
        event_type="OrderItemAdded",
        schema_version=1,
        data={
            "order_id": str(created.order_id),
            "product_id": "mug",
            "quantity": 3,
            "unit_price_cents": 999,
            "occurred_at": "2025-01-02T03:04:05+00:00",
        },
    )
    await store.append(created.stream_id, "Order", [legacy], 1, uuid4())

    [_, stored] = await store.read_stream(stream_id_of(created.order_id))
    event = codec.decode(stored.event_type, stored.schema_version, stored.data)

    assert event == OrderItemAdded(
        order_id=created.order_id,
        product_id="mug",
        quantity=3,
        unit_price=Decimal("9.99"),
        occurred_at=event.occurred_at,
    )
    assert event.occurred_at.utcoffset() is not None
    # the handler folds the upcast event: the same price is accepted, the line grows
    outcome = await bus.dispatch(add_mugs(created.order_id, expected_version=2), SYSTEM)
    assert outcome.version == 3


async def test_creating_an_order_that_exists_is_refused_and_appends_nothing(
    bus: CommandBus, store: EventStore
) -> None:
    first = await bus.dispatch(create_order(), SYSTEM)

    with pytest.raises(InvalidState):
        await bus.dispatch(create_order(order_id=first.order_id), SYSTEM)

    assert len(await store.read_stream(first.stream_id)) == 1


async def test_input_is_refused_before_the_order_is_looked_at(
    bus: CommandBus, store: EventStore
) -> None:
    # a bad quantity for an order that does not exist: the input is what the caller hears of
    with pytest.raises(InvalidInput) as refused:
        await bus.dispatch(add_mugs(uuid4(), quantity=0), SYSTEM)
    assert refused.value.field == "quantity"


async def test_what_is_recorded_is_the_cleaned_input(bus: CommandBus, store: EventStore) -> None:
    outcome = await bus.dispatch(create_order(customer_id=" ada "), SYSTEM)

    [recorded] = await store.read_stream(outcome.stream_id)
    assert recorded.data["customer_id"] == "ada"


@pytest.mark.parametrize(
    ("actor", "recorded"),
    [
        (SYSTEM, {"sub": "system", "roles": ["staff"]}),
        (Actor(sub="ada"), {"sub": "ada", "roles": []}),
        (
            Actor(sub="sam", roles=(STAFF_ROLE, "support")),
            {"sub": "sam", "roles": ["staff", "support"]},
        ),
    ],
    ids=["system", "customer", "staff"],
)
async def test_each_event_records_who_issued_its_command(
    bus: CommandBus, store: EventStore, actor: Actor, recorded: dict[str, object]
) -> None:
    created = await bus.dispatch(create_order(customer_id="ada"), actor)
    added = await bus.dispatch(add_mugs(created.order_id), actor)

    events = await store.read_stream(created.stream_id)

    assert [e.metadata["actor"] for e in events] == [recorded, recorded]
    assert events[1].metadata["command_id"] == str(added.command_id)
