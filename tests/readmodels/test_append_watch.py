"""The runner is pushed by appends, never by its safety timer (an hour in these tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore import EventStore, LoggedEvent, NewEvent, create_engine
from handlers.bus import CommandBus
from handlers.events import OrderCreated, codec, stream_id_of
from handlers.handler import register_order_handlers
from readmodels import ReadSide
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.projection import Projection
from readmodels.running import append_watch, runner
from readmodels.running.append_watch import AppendWatch
from tests.eventstore.log_by_hand import append_in_transaction
from tests.readmodels.conftest import NO_SAFETY_NET, address, create_order, line


async def test_appends_of_this_process_wake_the_runner(
    bus: CommandBus, read_side: ReadSide
) -> None:
    for n in range(3):
        outcome = await create_order(bus, f"c-{n}")
        consistency = await read_side.waiter.wait_for(outcome.position, timeout=10)
        assert not consistency.stale


async def test_appends_of_another_process_wake_the_runner_through_listen(
    pg_store: EventStore, postgres_url: str
) -> None:
    other_engine = create_engine(postgres_url)
    other = EventStore(other_engine)  # its own signal: only NOTIFY reaches the runner
    other.start()
    other_bus = CommandBus()
    register_order_handlers(other_bus, other)
    try:
        async with ReadSide.create(pg_store, safety_interval=NO_SAFETY_NET) as side:
            reached = []
            for n in range(3):
                outcome = await create_order(other_bus, f"c-{n}")
                reached.append(await side.waiter.wait_for(outcome.position, timeout=10))
    finally:
        await other.close()
        await other_engine.dispose()

    assert [consistency.stale for consistency in reached] == [False] * 3
    assert pg_store.signal.latest == 0  # nothing was announced in this process


async def test_events_held_back_by_an_open_transaction_are_applied_once_it_ends(
    pg_engine: AsyncEngine, pg_store: EventStore
) -> None:
    bus = CommandBus()
    register_order_handlers(bus, pg_store)
    async with ReadSide.create(pg_store, safety_interval=NO_SAFETY_NET) as side:
        async with pg_engine.connect() as blocker:
            # a transaction with an id, older than the append: the append stays below the
            # read horizon, invisible to projections, until this one ends
            await blocker.execute(text("SELECT pg_current_xact_id()"))
            outcome = await create_order(bus)
            held_back = await side.waiter.wait_for(outcome.position, timeout=0.2)
            await blocker.rollback()
        # no append follows and the safety timer is an hour: only the runner's own
        # re-checks while it knows of unread appends can bring it there
        released = await side.waiter.wait_for(outcome.position, timeout=10)

    assert held_back.stale
    assert not released.stale


def never_rechecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the re-check timer an hour: only announcements wake the runner then."""
    monkeypatch.setattr(runner, "MIN_RECHECK", NO_SAFETY_NET)
    monkeypatch.setattr(append_watch, "MIN_RECHECK", NO_SAFETY_NET)
    monkeypatch.setattr(append_watch, "MAX_RECHECK", NO_SAFETY_NET)


async def until_an_append_waits_for_a_lock(engine: AsyncEngine) -> None:
    async with asyncio.timeout(10), engine.connect() as conn:
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        while not (await conn.execute(waiting)).scalar():
            await conn.rollback()


@pytest.mark.parametrize("older_appender", ["this process", "another process"])
async def test_a_late_commit_of_an_older_append_wakes_the_runner_at_once(
    pg_engine: AsyncEngine,
    pg_store: EventStore,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    older_appender: str,
) -> None:
    # the re-check back-off alone would take an hour: only the announcement of the older
    # append's commit (not a new maximum) can bring the runner past the newer one
    never_rechecked(monkeypatch)
    other_engine = create_engine(postgres_url)
    other = EventStore(other_engine)  # its own signal: only its NOTIFY reaches the runner
    other.start()
    older_store = pg_store if older_appender == "this process" else other
    bus = CommandBus()
    register_order_handlers(bus, pg_store)
    order_id = uuid4()
    kind, schema_version, data = codec.encode(
        OrderCreated(
            order_id=order_id,
            customer_id="ada",
            items=(line("mug"),),
            shipping_address=address(),
            occurred_at=datetime.now(UTC),
        )
    )
    created = [NewEvent(event_type=kind, schema_version=schema_version, data=data)]
    try:
        async with ReadSide.create(pg_store, safety_interval=NO_SAFETY_NET) as side:
            async with pg_engine.connect() as blocker:
                # holds the stream's first version: the older append takes its transaction
                # id (its command record goes in first), then waits on the events' key
                await append_in_transaction(
                    pg_store, blocker, stream_id_of(order_id), "Order", created, 0, uuid4()
                )
                older = asyncio.create_task(
                    older_store.append(stream_id_of(order_id), "Order", created, 0, uuid4())
                )
                await until_an_append_waits_for_a_lock(pg_engine)
                newer = await create_order(bus, "bob")
                held_back = await side.waiter.wait_for(newer.position, timeout=0.2)
                await blocker.rollback()
            older_position = (await older).position
            released = await side.waiter.wait_for(newer.position, timeout=10)
    finally:
        await other.close()
        await other_engine.dispose()

    assert older_position < newer.position
    assert held_back.stale
    assert not released.stale


class HeldOpen:
    """A projection whose first batch keeps its transaction open, with a transaction id,
    until the test lets it commit: the way a projection's writes hold the read horizon
    back for the other projections."""

    name = "held_open"
    version = 1
    handles = OrderViewsProjection.handles
    tables: tuple[Table, ...] = ()

    def in_tables(self, suffix: str) -> HeldOpen:
        return self

    def __init__(self) -> None:
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        await conn.execute(text("SELECT pg_current_xact_id()"))
        self.holding.set()
        await self.release.wait()


async def test_a_projection_commit_wakes_the_rechecks_of_the_others(
    pg_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the re-check timer would take an hour, and the store announces its appends in this
    # process only (no NOTIFY): only the commit of the other projection can bring
    # order_views past the append its transaction held back
    never_rechecked(monkeypatch)
    store = EventStore(pg_engine)
    bus = CommandBus()
    register_order_handlers(bus, store)
    held_open = HeldOpen()
    projections: list[Projection] = [OrderViewsProjection(), held_open]
    try:
        async with ReadSide.create(store, projections, safety_interval=NO_SAFETY_NET) as side:
            first = await create_order(bus, "ada")
            await held_open.holding.wait()
            held_back = await create_order(bus, "bob")
            before_commit = await side.waiter.wait_for(
                held_back.position, ["order_views"], timeout=0.2
            )
            held_open.release.set()
            after_commit = await side.waiter.wait_for(held_back.position, timeout=10)
    finally:
        await store.close()

    assert first.position < held_back.position
    assert before_commit.stale
    assert not after_commit.stale


async def test_a_recheck_cut_short_by_an_announcement_starts_its_pauses_over(
    store: EventStore,
) -> None:
    appends = AppendWatch(store)
    await appends.start()
    try:
        assert await appends.recheck_later(0.002) == 0.004  # nothing announced: doubled
        since = appends.generation
        await store.append(
            "Order-1",
            "Order",
            [NewEvent(event_type="Noted", schema_version=1, data={})],
            0,
            uuid4(),
        )
        assert await appends.recheck_later(NO_SAFETY_NET, since=since) == append_watch.MIN_RECHECK
    finally:
        await appends.close()
