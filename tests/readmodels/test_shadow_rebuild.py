"""Shadow rebuilds: each projection built beside its live tables under a steady stream of
commands, while a reader queries without pause; every read answers complete data, and
after the switch the tables equal a fold of the log, with their indexes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import Column, Text, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore, LoggedEvent
from handlers.bus import CommandBus
from readmodels import (
    GetCustomerSummary,
    GetOrderById,
    Projection,
    ProjectionState,
    ReadSide,
    SearchOrders,
    ShadowBuildFailed,
)
from readmodels.customer_summaries.projection import CustomerSummariesProjection
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.projection import Replay
from readmodels.status import checkpoints
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY, BeforeEachWindow, create_order
from tests.readmodels.test_rebuild import as_folded, folded_from_streams, read_tables, writer

WRITERS = 1

# they make version 2 live, with a column version 1 lacks
pytestmark = pytest.mark.usefixtures("v1_tables_restored")


async def caught_up(store: EventStore, side: ReadSide) -> None:
    head = max(store.signal.latest, await store.head_position())
    assert not (await side.waiter.wait_for(head, timeout=60)).stale


async def read_continuously(side: ReadSide, known: list[UUID], stop: asyncio.Event) -> int:
    """Read orders the live tables had before the build, and their customers' summaries,
    until told to stop; each must be there and whole. The number of reads."""
    rng = random.Random(7)
    reads = 0
    while not stop.is_set():
        order_id = rng.choice(known)
        view = (await side.bus.ask(GetOrderById(order_id=order_id))).value
        assert view is not None, f"order {order_id} missing during the build"
        assert view.total_amount == sum((line.line_total for line in view.items), Decimal(0))
        summary = (await side.bus.ask(GetCustomerSummary(customer_id=view.customer_id))).value
        assert summary is not None and summary.order_count >= 1
        page = (await side.bus.ask(SearchOrders(query="", page_size=1))).value
        assert page.total >= len(known), "search answered from a partial table"
        reads += 1
    return reads


async def read_your_writes(bus: CommandBus, side: ReadSide, stop: asyncio.Event) -> list[UUID]:
    """Create orders and read each at its position: never from behind it. The orders."""
    created_orders: list[UUID] = []
    while not stop.is_set():
        created = await create_order(bus, "waiter")
        assert not (await side.waiter.wait_for(created.position, timeout=30)).stale
        view = (await side.bus.ask(GetOrderById(order_id=created.order_id))).value
        assert view is not None and view.last_position >= created.position
        created_orders.append(created.order_id)
    return created_orders


async def index_names(store: EventStore) -> list[str]:
    async with store.engine.connect() as conn:
        if store.is_postgres:
            query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        else:
            query = "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')"
        return sorted(row[0] for row in await conn.execute(text(query)))


async def test_a_shadow_rebuild_serves_complete_reads_then_switches_to_a_fold_of_the_log(
    store: EventStore, bus: CommandBus
) -> None:
    side = ReadSide.create(
        store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY, rebuild_batch_size=100
    )
    async with side:
        known: list[UUID] = []
        await asyncio.gather(*(writer(bus, seed, known) for seed in range(WRITERS)))
        await caught_up(store, side)
        indexes = await index_names(store)
        more: list[UUID] = []
        stop = asyncio.Event()
        reader = asyncio.create_task(read_continuously(side, list(known), stop))
        waiter = asyncio.create_task(read_your_writes(bus, side, stop))
        writers = asyncio.gather(*(writer(bus, seed, more) for seed in range(10, 10 + WRITERS)))
        for name in side.runner.names:
            await side.runner.shadow_rebuild(name)
        await writers
        stop.set()
        reads, waited = await reader, await waiter
        await caught_up(store, side)

        assert reads > 0 and waited
        folded = await folded_from_streams(store, known + more + waited)
        assert as_folded(await read_tables(store)) == folded
        assert await index_names(store) == indexes
        city = (await side.bus.ask(SearchOrders(query="oslo", page_size=1))).value
        assert city.total > 0  # the full-text index follows the new table
        async with store.engine.connect() as conn:
            rows = await checkpoints.load(conn, ["order_views@1", "customer_summaries@1"])
        assert rows == {}  # the shadows' checkpoints went with the switch


class OrderViewsWithNote(OrderViewsProjection):
    """order_views changed to version 2: a new column."""

    version = 2

    def __init__(self, suffix: str = "") -> None:
        super().__init__(suffix)
        self.order_views.append_column(Column("note", Text))


class OrderViewsFailingInShadow(OrderViewsProjection):
    """A rebuild whose code cannot apply an event the live tables' code could (of the
    live version, so that the runner does not build it by itself on start)."""

    def in_tables(self, suffix: str) -> OrderViewsProjection:
        broken = OrderViewsFailingInShadow(suffix)
        broken.fails = True
        return broken

    fails = False

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        if self.fails:
            raise ValueError("the new fold cannot read this")
        await super().apply(conn, events)

    def replay(self) -> Replay:
        return BeforeEachWindow(super().replay(), self._refuse)

    async def _refuse(self, events: Sequence[LoggedEvent]) -> None:
        if self.fails:
            raise ValueError("the new fold cannot read this")


async def columns(store: EventStore) -> list[str]:
    async with store.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: [c["name"] for c in inspect(sync).get_columns("order_views")]
        )


async def test_a_new_version_with_a_new_column_is_built_beside_the_old_and_switched_in(
    store: EventStore, bus: CommandBus
) -> None:
    created = await create_order(bus, "ada")
    async with ReadSide.create(store, safety_interval=NO_SAFETY_NET) as old:
        await caught_up(store, old)
    new_code: list[Projection] = [OrderViewsWithNote(), CustomerSummariesProjection()]
    async with ReadSide.create(store, new_code, safety_interval=NO_SAFETY_NET) as side:
        assert side.runner.status("order_views").version == 1
        await side.runner.shadow_rebuild("order_views")
        later = await create_order(bus, "bob")
        await caught_up(store, side)
        for order in (created, later):
            view = (await side.bus.ask(GetOrderById(order_id=order.order_id))).value
            assert view is not None and view.last_position == order.position
        assert side.runner.status("order_views").version == 2
    assert "note" in await columns(store)
    async with store.engine.connect() as conn:
        rows = await checkpoints.load(conn, ["order_views", "customer_summaries"])
    assert (rows["order_views"].version, rows["customer_summaries"].version) == (2, 1)


async def test_a_failed_shadow_build_leaves_the_live_version_serving_and_says_why(
    store: EventStore, bus: CommandBus
) -> None:
    created = await create_order(bus, "ada")
    projections: list[Projection] = [OrderViewsFailingInShadow(), CustomerSummariesProjection()]
    async with ReadSide.create(store, projections, safety_interval=NO_SAFETY_NET) as side:
        await caught_up(store, side)
        with pytest.raises(ShadowBuildFailed, match="the new fold cannot read this"):
            await side.runner.shadow_rebuild("order_views")
        view = (await side.bus.ask(GetOrderById(order_id=created.order_id))).value
        assert view is not None
    async with store.engine.connect() as conn:
        shadow = (await checkpoints.load(conn, ["order_views@1"]))["order_views@1"]
    assert shadow.state == ProjectionState.FAILED.value
    assert "the new fold cannot read this" in shadow.last_error
