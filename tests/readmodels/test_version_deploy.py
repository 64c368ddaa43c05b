"""Deploying a new version of a projection: a runner whose code is newer than the live
tables builds its version beside them (under the build lease) and switches it in, while
the live tables serve; status and the API show the build, and subscribers see the switch.
Each build here waits at a gate the test opens, so what holds during the build is seen
during it. Several processes of a rolling deploy: test_rolling_deploy.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore, LoggedEvent
from handlers.bus import CommandBus
from readmodels import (
    GetOrderById,
    GetProjectionStatuses,
    Projection,
    ProjectionState,
    ProjectionStatus,
    ReadSide,
)
from readmodels.customer_summaries.projection import CustomerSummariesProjection
from readmodels.projection import Replay
from readmodels.status import checkpoints
from schema.app import create_app
from schema.settings import Settings
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY, BeforeEachWindow, create_order
from tests.readmodels.test_rebuild import as_folded, folded_from_streams, read_tables, writer
from tests.readmodels.test_scaleout import eventually
from tests.readmodels.test_shadow_rebuild import OrderViewsWithNote, caught_up, columns
from tests.schema.in_loop import (
    WAIT_SECONDS,
    connected,
    next_data,
    serving,
    subscribe,
    until_subscribers,
)

# they make version 2 live, with a column version 1 lacks
pytestmark = pytest.mark.usefixtures("v1_tables_restored")


class GatedOrderViewsWithNote(OrderViewsWithNote):
    """Version 2, whose shadow build waits for `gate` before it writes anything (after the
    first `free_windows` windows)."""

    gate: asyncio.Event
    reached: asyncio.Event
    free_windows: int

    def in_tables(self, suffix: str) -> GatedOrderViewsWithNote:
        return GatedOrderViewsWithNote(suffix)

    def replay(self) -> Replay:
        return BeforeEachWindow(super().replay(), self._wait_at_window)

    async def _wait_at_window(self, events: Sequence[LoggedEvent]) -> None:
        await self._wait_at_gate()

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        if self.order_views.name != "order_views":  # the shadow's; the live one is free
            await self._wait_at_gate()
        await super().apply(conn, events)

    async def _wait_at_gate(self) -> None:
        if GatedOrderViewsWithNote.free_windows > 0:
            GatedOrderViewsWithNote.free_windows -= 1
            return
        GatedOrderViewsWithNote.reached.set()
        await GatedOrderViewsWithNote.gate.wait()


@pytest.fixture
def gate() -> asyncio.Event:
    GatedOrderViewsWithNote.gate = asyncio.Event()
    GatedOrderViewsWithNote.reached = asyncio.Event()
    GatedOrderViewsWithNote.free_windows = 0
    return GatedOrderViewsWithNote.gate


def new_code() -> list[Projection]:
    return [GatedOrderViewsWithNote(), CustomerSummariesProjection()]


async def live_version(store: EventStore) -> int:
    async with store.engine.connect() as conn:
        return int((await checkpoints.load(conn, ["order_views"]))["order_views"].version)


async def switched(side: ReadSide) -> None:
    """Wait until the hub announces version 2 of order_views live."""
    async with side.hub.subscribe(["order_views"]) as updates:
        latest = side.hub.latest("order_views")
        if latest is not None and latest.version == 2:
            return
        async with asyncio.timeout(30):
            async for status in updates:
                if status.version == 2:
                    return


async def known_orders(store: EventStore, bus: CommandBus) -> list[UUID]:
    known: list[UUID] = []
    await writer(bus, 1, known)
    async with ReadSide.create(store, safety_interval=NO_SAFETY_NET) as old:
        await caught_up(store, old)
    return known


async def test_a_runner_with_newer_code_builds_it_while_the_old_tables_serve_then_switches(
    store: EventStore, bus: CommandBus, gate: asyncio.Event
) -> None:
    known = await known_orders(store, bus)
    side = ReadSide.create(store, new_code(), safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    async with side:
        await GatedOrderViewsWithNote.reached.wait()
        during = (await side.bus.ask(GetOrderById(order_id=known[0]))).value
        version_during = await live_version(store)
        held_during = side.runner.held
        gate.set()
        await switched(side)
        later = await create_order(bus, "after-the-switch")
        await caught_up(store, side)
        after = (await side.bus.ask(GetOrderById(order_id=later.order_id))).value

    assert during is not None  # the version 1 tables served during the build
    assert version_during == 1
    assert "order_views" not in held_during  # its code is not applied to version 1's tables
    assert after is not None and after.last_position == later.position
    assert await live_version(store) == 2
    assert "note" in await columns(store)
    folded = await folded_from_streams(store, [*known, later.order_id])
    assert as_folded(await read_tables(store)) == folded


async def test_status_shows_the_build_with_its_rate_and_time_to_go_until_it_switches(
    store: EventStore, bus: CommandBus, gate: asyncio.Event
) -> None:
    await known_orders(store, bus)
    # the third window's fold waits: by then the first is committed (a rate to tell),
    # since a window is written while the next is folded
    GatedOrderViewsWithNote.free_windows = 2
    side = ReadSide.create(
        store, new_code(), safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY, rebuild_window=50
    )
    async with side:
        await GatedOrderViewsWithNote.reached.wait()
        during = await order_views_status(side)
        gate.set()
        await switched(side)
        after = await order_views_status(side)

    build = during.build
    assert during.version == 1 and build is not None
    assert build.version == 2 and build.state is ProjectionState.RUNNING
    assert 0 < build.position < build.head_position  # two windows of several
    assert build.started_at is not None and build.started_at <= build.updated_at
    assert build.events_per_second is not None and build.events_per_second > 0
    assert build.eta_seconds is not None and build.eta_seconds > 0
    assert after.version == 2 and after.build is None  # switched in, its row gone


async def order_views_status(side: ReadSide) -> ProjectionStatus:
    statuses = (await side.bus.ask(GetProjectionStatuses())).value
    return next(status for status in statuses if status.name == "order_views")


STATUSES = "{ projections { name version codeVersion build { version state position } } }"
UPDATES = (
    'subscription { projectionUpdates(projections: ["order_views"]) '
    "{ name version codeVersion position } }"
)


async def test_the_api_shows_the_build_and_its_subscribers_see_the_switch(
    store: EventStore, bus: CommandBus, gate: asyncio.Event
) -> None:
    await known_orders(store, bus)
    url = store.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url), projections=new_code())
    async with (
        serving(app) as served,
        httpx.AsyncClient(timeout=WAIT_SECONDS) as client,
        connected(served.url, "graphql-transport-ws") as connection,
    ):
        await GatedOrderViewsWithNote.reached.wait()
        during = await query(client, served.http_url, STATUSES)
        await subscribe(connection, "graphql-transport-ws", UPDATES)
        await until_subscribers(served.services.hub, lambda count: count >= 1, "the subscriber")
        gate.set()
        updates = [(await next_data(connection))["projectionUpdates"]]
        while updates[-1]["version"] != 2:
            updates.append((await next_data(connection))["projectionUpdates"])
        after = await query(client, served.http_url, STATUSES)

    order_views = next(p for p in during["projections"] if p["name"] == "order_views")
    assert order_views["version"] == 1 and order_views["codeVersion"] == 2
    assert order_views["build"]["version"] == 2 and order_views["build"]["state"] == "RUNNING"
    switch = updates[-1]  # the first message of version 2 is the switch's own
    assert switch["codeVersion"] == 2
    assert switch["position"] >= max(update["position"] for update in updates)
    order_views = next(p for p in after["projections"] if p["name"] == "order_views")
    assert order_views["version"] == 2 and order_views["build"] is None


async def query(client: httpx.AsyncClient, url: str, document: str) -> dict[str, Any]:
    response = await client.post(url, json={"query": document})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


class FailingOrderViewsVersion2(OrderViewsWithNote):
    """Version 2, whose code cannot apply an event version 1's could."""

    def replay(self) -> Replay:
        return BeforeEachWindow(super().replay(), self._refuse)

    async def _refuse(self, events: Sequence[LoggedEvent]) -> None:
        raise ValueError("version 2 cannot read this")

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        raise ValueError("version 2 cannot read this")


async def test_a_new_version_that_fails_to_build_leaves_the_old_one_live_and_says_why(
    store: EventStore, bus: CommandBus, gate: asyncio.Event
) -> None:
    known = await known_orders(store, bus)
    failing: list[Projection] = [FailingOrderViewsVersion2(), CustomerSummariesProjection()]
    side = ReadSide.create(store, failing, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    async with side:
        await eventually(lambda: _shadow_failed(store), "the build of version 2 fails")
        view = (await side.bus.ask(GetOrderById(order_id=known[0]))).value
        held = side.runner.held
        failed = await order_views_status(side)

    assert view is not None  # version 1's tables still serve
    assert "order_views" not in held  # and version 2's code never writes them
    assert await live_version(store) == 1
    async with store.engine.connect() as conn:
        shadow = (await checkpoints.load(conn, ["order_views@2"]))["order_views@2"]
    assert "version 2 cannot read this" in shadow.last_error  # status tells why
    assert failed.version == 1 and failed.build is not None
    assert failed.build.state is ProjectionState.FAILED and failed.build.eta_seconds is None
    assert "version 2 cannot read this" in (failed.build.last_error or "")

    fixed = ReadSide.create(store, new_code(), safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    gate.set()
    async with fixed:
        await switched(fixed)  # the fixed code of version 2 began the build over
    assert await live_version(store) == 2


async def _shadow_failed(store: EventStore) -> bool:
    async with store.engine.connect() as conn:
        row = (await checkpoints.load(conn, ["order_views@2"])).get("order_views@2")
    return row is not None and row.state == ProjectionState.FAILED.value
