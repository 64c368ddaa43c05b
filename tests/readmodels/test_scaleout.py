"""Several runners on one PostgreSQL database, as several processes would have them: each
read side here has its own engine, store and connections, so the server sees separate
sessions, locks and listeners. (tests/scaleout runs real processes.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text

from eventstore import EventStore, create_engine
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from readmodels import GetCustomerSummary, ProjectionState, ReadSide
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY, create_order

BOTH = frozenset({"order_views", "customer_summaries"})


@contextlib.asynccontextmanager
async def process(postgres_url: str, projections: bool = True) -> AsyncIterator[ReadSide]:
    """A read side on connections of its own, started, with or without its runner."""
    engine = create_engine(postgres_url)
    store = EventStore(engine)
    side = ReadSide.create(store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    try:
        await side.start(projections=projections)
        yield side
    finally:
        await side.close()
        await engine.dispose()


async def eventually(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Look until `condition` holds, failing after 10 s (state other sessions change)."""
    async with asyncio.timeout(10):
        # pg_locks and the runners' leases announce nothing: looking again is all there is
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert await condition(), what


@pytest.fixture
def bus(pg_store: EventStore) -> CommandBus:
    commands = CommandBus()
    register_order_handlers(commands, pg_store)
    return commands


async def test_each_projection_runs_in_one_process_and_another_takes_over_when_it_stops(
    postgres_url: str, bus: CommandBus
) -> None:
    async with process(postgres_url) as first:
        await eventually(lambda: _holds(first, BOTH), "the first process runs both")
        async with process(postgres_url) as second:
            before = await create_order(bus, "ada")
            assert not (await second.waiter.wait_for(before.position, timeout=10)).stale
            assert second.runner.held == frozenset()  # it heard of the first one's commits

            await first.close()  # the first process goes away; its locks go with it
            await eventually(lambda: _holds(second, BOTH), "the second process takes over")
            after = await create_order(bus, "ada")
            reached = await second.waiter.wait_for(after.position, timeout=10)
            summary = (await second.bus.ask(GetCustomerSummary(customer_id="ada"))).value

    assert not reached.stale
    assert summary is not None
    assert summary.order_count == 2  # neither order applied twice, neither skipped


async def test_a_process_that_loses_its_lock_connection_stands_by(
    postgres_url: str, bus: CommandBus
) -> None:
    async with process(postgres_url) as first:
        await eventually(lambda: _holds(first, BOTH), "the first process runs both")
        async with process(postgres_url) as second:
            holders = await _lock_holders(postgres_url)
            assert len(holders) == 2
            await _terminate(postgres_url, holders)

            await eventually(lambda: _holds(second, BOTH), "the second process takes over")
            # the first hears of its lost connection when its socket says so
            await eventually(lambda: _holds(first, frozenset()), "the first one stands by")
            created = await create_order(bus, "ada")
            reached = [
                await side.waiter.wait_for(created.position, timeout=10) for side in (first, second)
            ]

    assert [consistency.stale for consistency in reached] == [False, False]


async def test_an_api_process_hears_checkpoints_of_others_even_across_a_lost_listen(
    postgres_url: str, bus: CommandBus
) -> None:
    async with process(postgres_url) as worker, process(postgres_url, projections=False) as api:
        first = await create_order(bus, "ada")
        heard = await api.waiter.wait_for(first.position, timeout=10)

        connected = api.feed.connected
        assert connected is not None
        await _terminate(postgres_url, await _listeners(postgres_url, "cqrs_orders_projected"))
        # committed while the API process may be deaf: found by the re-read on reconnect
        during = await create_order(bus, "ada")
        assert not (await worker.waiter.wait_for(during.position, timeout=10)).stale
        after_outage = await api.waiter.wait_for(during.position, timeout=10)

    assert api.runner.held == frozenset()
    assert not heard.stale
    assert not after_outage.stale


async def test_a_rebuild_asked_for_elsewhere_is_done_by_the_process_that_runs_it(
    postgres_url: str, bus: CommandBus
) -> None:
    async with process(postgres_url) as worker:
        await eventually(lambda: _holds(worker, BOTH), "the worker runs both")
        orders = [await create_order(bus, f"c-{n}") for n in range(5)]
        assert not (await worker.waiter.wait_for(orders[-1].position, timeout=10)).stale
        async with process(postgres_url, projections=False) as operator:
            progress = await operator.runner.rebuild("customer_summaries")
            status = operator.runner.status("customer_summaries")
        held_throughout = worker.runner.held
        summaries = [
            (await worker.bus.ask(GetCustomerSummary(customer_id=f"c-{n}"))).value for n in range(5)
        ]

    assert "customer_summaries" in held_throughout
    assert (status.state, status.position) == (ProjectionState.RUNNING, orders[-1].position)
    assert progress.done == 5
    assert [summary.order_count if summary else None for summary in summaries] == [1] * 5


async def _holds(side: ReadSide, names: frozenset[str]) -> bool:
    return side.runner.held == names


async def _lock_holders(postgres_url: str) -> list[int]:
    return await _pids(
        postgres_url,
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )


async def _listeners(postgres_url: str, channel: str) -> list[int]:
    return await _pids(
        postgres_url,
        f"SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        f"AND query = 'LISTEN \"{channel}\"'",
    )


async def _pids(postgres_url: str, query: str) -> list[int]:
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(query))).scalars())
    finally:
        await engine.dispose()


async def _terminate(postgres_url: str, pids: list[int]) -> None:
    assert pids, "nothing to terminate"
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            for pid in pids:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await engine.dispose()
