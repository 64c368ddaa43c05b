"""Who may issue which command, through the CommandBus into a real event store: staff
anything, a customer only their own orders, and never shipping."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from eventstore import EventStore
from handlers.actor import ANONYMOUS, STAFF_ROLE, Actor
from handlers.bus import CommandBus
from handlers.commands import (
    AddOrderItem,
    CancelOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from handlers.errors import Forbidden, InvalidInput, OrderNotFound
from handlers.outcome import CommandOutcome
from tests.eventstore.test_store import count_commands, count_events
from tests.handlers.builders import MUG, TEAPOT, create_order

ADA = Actor(sub="ada")
BOB = Actor(sub="bob")
STAFF = Actor(sub="sam", roles=(STAFF_ROLE,))

OrderChange = Callable[[UUID], OrderCommand]


def add_teapot(order_id: UUID) -> AddOrderItem:
    return AddOrderItem(order_id=order_id, product_id="teapot", quantity=1, unit_price=Decimal(35))


def remove_teapot(order_id: UUID) -> RemoveOrderItem:
    return RemoveOrderItem(order_id=order_id, product_id="teapot")


def cancel(order_id: UUID) -> CancelOrder:
    return CancelOrder(order_id=order_id, reason="changed my mind")


def ship(order_id: UUID) -> ShipOrder:
    return ShipOrder(order_id=order_id, carrier="DHL", tracking_number="JD0001")


CUSTOMER_CHANGES = pytest.mark.parametrize(
    "change", [add_teapot, remove_teapot, cancel], ids=["add", "remove", "cancel"]
)


async def adas_order(bus: CommandBus) -> CommandOutcome:
    """A pending order of ada's with two lines, so that either can be removed."""
    return await bus.dispatch(create_order(MUG, TEAPOT, customer_id="ada"), ADA)


async def refused_and_unrecorded(
    bus: CommandBus, store: EventStore, command: OrderCommand, actor: Actor
) -> BaseException:
    """What dispatching `command` as `actor` raised, having checked it recorded nothing."""
    events, commands = await count_events(store), await count_commands(store)
    with pytest.raises((Forbidden, OrderNotFound)) as refused:
        await bus.dispatch(command, actor)
    assert (await count_events(store), await count_commands(store)) == (events, commands)
    return refused.value


# staff


@pytest.mark.parametrize("staff", [STAFF, ANONYMOUS], ids=["staff", "anonymous"])
@pytest.mark.parametrize(
    "change", [add_teapot, remove_teapot, ship, cancel], ids=["add", "remove", "ship", "cancel"]
)
async def test_staff_may_change_ship_and_cancel_anyones_order(
    bus: CommandBus, staff: Actor, change: OrderChange
) -> None:
    order = await adas_order(bus)

    outcome = await bus.dispatch(change(order.order_id), staff)

    assert outcome.version == 2


async def test_staff_may_create_an_order_for_any_customer(bus: CommandBus) -> None:
    outcome = await bus.dispatch(create_order(customer_id="ada"), STAFF)
    assert outcome.version == 1


# customers creating and shipping


async def test_a_customer_may_create_their_own_order(bus: CommandBus, store: EventStore) -> None:
    outcome = await bus.dispatch(create_order(customer_id=" ada "), ADA)

    [created] = await store.read_stream(outcome.stream_id)
    assert created.data["customer_id"] == "ada"  # compared once cleaned


async def test_a_customer_may_not_create_an_order_for_another(
    bus: CommandBus, store: EventStore
) -> None:
    command = create_order(customer_id="ada")

    refused = await refused_and_unrecorded(bus, store, command, BOB)

    assert isinstance(refused, Forbidden)
    # the command id was not spent: ada may still use it
    outcome = await bus.dispatch(command, ADA)
    assert not outcome.duplicate


async def test_a_customer_may_not_ship_even_their_own_order(
    bus: CommandBus, store: EventStore
) -> None:
    order = await adas_order(bus)
    command = ship(order.order_id)

    refused = await refused_and_unrecorded(bus, store, command, ADA)

    assert isinstance(refused, Forbidden)
    outcome = await bus.dispatch(command, STAFF)
    assert (outcome.version, outcome.duplicate) == (2, False)


async def test_shipping_is_forbidden_before_the_order_is_looked_at(bus: CommandBus) -> None:
    with pytest.raises(Forbidden):
        await bus.dispatch(ship(uuid4()), ADA)


async def test_bad_input_is_reported_before_a_forbidden_command(bus: CommandBus) -> None:
    with pytest.raises(InvalidInput) as refused:
        await bus.dispatch(dataclasses.replace(create_order(customer_id="ada"), items=()), BOB)
    assert refused.value.field == "items"


# customers changing orders


@CUSTOMER_CHANGES
async def test_a_customer_may_change_and_cancel_their_own_order(
    bus: CommandBus, change: OrderChange
) -> None:
    order = await adas_order(bus)

    outcome = await bus.dispatch(change(order.order_id), ADA)

    assert outcome.version == 2


@CUSTOMER_CHANGES
async def test_another_customers_order_is_not_found(
    bus: CommandBus, store: EventStore, change: OrderChange
) -> None:
    order = await adas_order(bus)
    command = change(order.order_id)

    refused = await refused_and_unrecorded(bus, store, command, BOB)

    assert isinstance(refused, OrderNotFound)
    # the command id was not spent: the order's owner may still use it
    outcome = await bus.dispatch(command, ADA)
    assert (outcome.version, outcome.duplicate) == (2, False)


@CUSTOMER_CHANGES
async def test_another_customers_order_answers_exactly_like_a_missing_one(
    bus: CommandBus, change: OrderChange
) -> None:
    order = await adas_order(bus)
    missing = uuid4()

    with pytest.raises(OrderNotFound) as foreign:
        # even at a wrong version: a conflict would tell that the order exists
        await bus.dispatch(dataclasses.replace(change(order.order_id), expected_version=7), BOB)
    with pytest.raises(OrderNotFound) as absent:
        await bus.dispatch(dataclasses.replace(change(missing), expected_version=7), BOB)

    assert str(foreign.value) == f"no order with id {order.order_id}"
    assert str(absent.value) == f"no order with id {missing}"


@CUSTOMER_CHANGES
async def test_a_command_id_used_on_one_order_is_not_a_key_to_it_for_another_customer(
    bus: CommandBus, store: EventStore, change: OrderChange
) -> None:
    # ada's command succeeded; bob replays it word for word, command id included. Were his
    # refusal found where retries are recognised (a refused decision, or the append of a
    # known command id), he would be handed ada's stored result.
    order = await adas_order(bus)
    adas_command = change(order.order_id)
    first = await bus.dispatch(adas_command, ADA)

    refused = await refused_and_unrecorded(bus, store, adas_command, BOB)

    assert isinstance(refused, OrderNotFound)
    # ada's own retry is still answered with her first result
    again = await bus.dispatch(adas_command, ADA)
    assert (again.duplicate, again.position) == (True, first.position)
