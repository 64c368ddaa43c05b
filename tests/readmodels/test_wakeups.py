"""The runner is pushed by appends, never by its safety timer (an hour in these tests)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import EventStore, create_engine
from handlers.bus import CommandBus
from handlers.orders import register_order_handlers
from readmodels import ReadSide
from tests.readmodels.conftest import NO_SAFETY_NET, create_order


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
