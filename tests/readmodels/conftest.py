"""Fixtures of the read-side suites: the real write side to produce events, and the read side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import EventStore, LoggedEvent, create_engine
from handlers.actor import SYSTEM
from handlers.bus import CommandBus
from handlers.commands import AddOrderItem, CancelOrder, CreateOrder, ShipOrder
from handlers.events import Address, OrderLine
from handlers.handler import register_order_handlers
from handlers.outcome import CommandOutcome
from readmodels import OrderPage, ReadSide, RetryPolicy, SearchOrders
from readmodels.projection import Replay, WindowWrite

# Tests must never need the safety timer: an hour means a test passing proves the push path.
NO_SAFETY_NET = 3600.0
QUICK_RETRY = RetryPolicy(attempts=2, first_delay=0.001)


@pytest.fixture
async def v1_tables_restored(postgres_url: str) -> AsyncIterator[None]:
    """After a test that made version 2 (its `note` column) live: version 1's tables again
    in the run's PostgreSQL database, which later suites share (emptying it keeps the
    tables' shape)."""
    yield
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE order_views DROP COLUMN IF EXISTS note"))
    finally:
        await engine.dispose()


@pytest.fixture
def bus(store: EventStore) -> CommandBus:
    commands = CommandBus()
    register_order_handlers(commands, store)
    return commands


@pytest.fixture
async def read_side(store: EventStore) -> AsyncIterator[ReadSide]:
    """A started read side: its runner follows the log in the background."""
    side = ReadSide.create(store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    async with side:
        yield side


def line(product_id: str, quantity: int = 1, unit_price: str = "10.00") -> OrderLine:
    return OrderLine(product_id=product_id, quantity=quantity, unit_price=Decimal(unit_price))


def address(name: str = "Ada Lovelace", city: str = "London", country: str = "GB") -> Address:
    return Address(
        name=name,
        line1="12 St James's Square",
        line2=None,
        city=city,
        postal_code="SW1Y 4JH",
        country=country,
    )


async def create_order(
    bus: CommandBus,
    customer_id: str = "customer-1",
    *items: OrderLine,
    shipping: Address | None = None,
) -> CommandOutcome:
    return await bus.dispatch(
        CreateOrder(
            customer_id=customer_id,
            items=items or (line("mug", 2, "4.50"),),
            shipping_address=shipping or address(),
        ),
        SYSTEM,
    )


def order_ids(outcomes: list[CommandOutcome]) -> list[UUID]:
    return [outcome.order_id for outcome in outcomes]


@pytest.fixture
async def idle_side(store: EventStore) -> ReadSide:
    """A read side whose runner is not started: tests drive it with `runner.catch_up()`."""
    return ReadSide.create(store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)


async def add_item(
    bus: CommandBus, order_id: UUID, product_id: str, quantity: int = 1, unit_price: str = "1.00"
) -> CommandOutcome:
    return await bus.dispatch(
        AddOrderItem(
            order_id=order_id,
            product_id=product_id,
            quantity=quantity,
            unit_price=Decimal(unit_price),
        ),
        SYSTEM,
    )


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Catalog:
    side: ReadSide
    ids: dict[str, UUID]

    def names(self, page: OrderPage) -> list[str]:
        by_id = {order_id: name for name, order_id in self.ids.items()}
        return [by_id[view.id] for view in page.items]

    async def search(self, text: str = "", **arguments: Any) -> list[str]:
        return self.names((await self.side.bus.ask(SearchOrders(query=text, **arguments))).value)


def place(name: str, city: str, postal_code: str, country: str) -> Address:
    return Address(
        name=name,
        line1="1 Main St",
        line2=None,
        city=city,
        postal_code=postal_code,
        country=country,
    )


@pytest.fixture
async def catalog(bus: CommandBus, idle_side: ReadSide) -> Catalog:
    """Five orders created a minute apart (o1 first), two of them then shipped or cancelled."""
    shapes = {
        "o1": ("ada", (line("mug", 2, "4.50"),), place("Ada King", "London", "N1 9GU", "GB")),
        "o2": ("ada", (line("pot", 1, "20.00"),), place("Ada King", "Paris", "75011", "FR")),
        "o3": ("bob", (line("tea", 3, "1.00"),), place("Bob Marsh", "Berlin", "10115", "DE")),
        "o4": ("bob", (line("SKU_50%", 1, "12.34"),), place("Bob Marsh", "London", "E2 7DD", "GB")),
        "o5": (
            "carol",
            (line("mug", 1, "4.50"), line("lid", 2, "0.25")),
            place("Carol Stone", "Lisbon", "1100-148", "PT"),
        ),
    }
    ids = {}
    for minute, (name, (customer, items, address)) in enumerate(shapes.items(), start=1):
        created = await bus.dispatch(
            CreateOrder(
                customer_id=customer,
                items=items,
                shipping_address=address,
                timestamp=T0 + timedelta(minutes=minute),
            ),
            SYSTEM,
        )
        ids[name] = created.order_id
    await bus.dispatch(ShipOrder(order_id=ids["o2"], carrier="DHL", tracking_number="1"), SYSTEM)
    await bus.dispatch(CancelOrder(order_id=ids["o3"], reason="late"), SYSTEM)
    await idle_side.runner.catch_up()
    return Catalog(idle_side, ids)


class BeforeEachWindow:
    """A rebuild's replay that awaits `before` with each window's events before it folds
    them: a test's gate, or its failure."""

    def __init__(
        self, replay: Replay, before: Callable[[Sequence[LoggedEvent]], Awaitable[None]]
    ) -> None:
        self._replay = replay
        self._before = before

    async def fold(self, engine: AsyncEngine, events: Sequence[LoggedEvent]) -> WindowWrite:
        await self._before(events)
        return await self._replay.fold(engine, events)
