"""A rebuild on SQLite leaves the full-text index of order_views alone while it writes the
rows, and rebuilds it from them when it ends (migration 0008): whatever way it ends, and
also after a crash mid-way. The search finds every order afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from eventstore import EventStore, create_engine
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from migrations import upgrade
from readmodels import ProjectionState, ReadSide, SearchOrders
from tests.conftest import sqlite_url
from tests.readmodels.conftest import address, create_order, line
from tests.readmodels.test_rebuild import read_tables
from tests.readmodels.test_rebuild_indexes import crashed_mid_rebuild, deferred, idle_side

ORDERS = 30


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[EventStore]:
    engine = create_engine(sqlite_url(tmp_path))
    await upgrade(engine)
    store = EventStore(engine)
    store.start()
    yield store
    await store.close()
    await engine.dispose()


async def some_orders(store: EventStore) -> None:
    bus = CommandBus()
    register_order_handlers(bus, store)
    for number in range(ORDERS):
        city = "Lisbon" if number % 3 == 0 else "Oslo"
        await create_order(
            bus, f"customer-{number}", line(f"sku-{number}"), shipping=address(city=city)
        )


async def search_index_is_whole(store: EventStore) -> bool:
    """FTS5's own check that the index holds exactly the rows of order_views."""
    async with store.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO order_search(order_search, rank) VALUES ('integrity-check', 1)")
        )
    return True


async def lisbon_orders(side: ReadSide) -> int:
    return (await side.bus.ask(SearchOrders(query="lisbon", page_size=100))).value.total


async def test_a_rebuild_ends_with_every_order_searchable(sqlite_store: EventStore) -> None:
    await some_orders(sqlite_store)
    side = idle_side(sqlite_store, rebuild_window=7)
    await side.runner.catch_up()
    assert await lisbon_orders(side) == ORDERS // 3

    await side.runner.rebuild("order_views")

    assert side.runner.status("order_views").state is ProjectionState.RUNNING
    assert await deferred(sqlite_store) == []
    assert await search_index_is_whole(sqlite_store)
    assert await lisbon_orders(side) == ORDERS // 3


async def test_a_crash_mid_rebuild_is_repaired_by_the_next_runner(
    sqlite_store: EventStore,
) -> None:
    await some_orders(sqlite_store)
    await idle_side(sqlite_store).runner.catch_up()
    tables = await read_tables(sqlite_store)

    crashing = await crashed_mid_rebuild(sqlite_store)
    status = crashing.runner.status("order_views")
    assert status.state is ProjectionState.REBUILDING and status.position > 0
    assert await deferred(sqlite_store) == ["order_search"]
    # the index was emptied with the table, and is left alone meanwhile
    assert await lisbon_orders(crashing) == 0

    restarted = idle_side(sqlite_store, rebuild_batch_size=10, rebuild_window=10)
    await restarted.runner.catch_up()
    assert restarted.runner.status("order_views").state is ProjectionState.RUNNING
    assert await deferred(sqlite_store) == []
    assert await search_index_is_whole(sqlite_store)
    assert await lisbon_orders(restarted) == ORDERS // 3
    assert await read_tables(sqlite_store) == tables


async def test_orders_after_a_rebuild_are_searchable_as_they_come(
    sqlite_store: EventStore,
) -> None:
    """Once the rebuild has ended, the triggers keep the index up to date again."""
    await some_orders(sqlite_store)
    side = idle_side(sqlite_store)
    await side.runner.catch_up()
    await side.runner.rebuild("order_views")
    bus = CommandBus()
    register_order_handlers(bus, sqlite_store)
    await create_order(bus, "late", line("sku-late"), shipping=address(city="Lisbon"))
    await side.runner.catch_up()
    assert await lisbon_orders(side) == ORDERS // 3 + 1
    assert await search_index_is_whole(sqlite_store)
