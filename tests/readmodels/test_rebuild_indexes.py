"""A rebuild on PostgreSQL drops its tables' secondary indexes and creates them again
when it ends (migration 0004): whatever way it ends, and also after a crash mid-way; with
at least 256 MB of maintenance_work_mem (migration 0010)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from readmodels import ProjectionState, ReadSide
from readmodels.running import shadow_tables
from readmodels.status import checkpoints
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY, create_order, line
from tests.readmodels.test_rebuild import read_tables

TABLES = ("order_views", "customer_summaries", "customer_orders")


async def indexes(store: EventStore) -> dict[str, str]:
    """Every index of the read tables, by name, with its definition."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables)"),
            {"tables": list(TABLES)},
        )
        return {name: definition for name, definition in rows}


async def deferred(store: EventStore) -> list[str]:
    async with store.engine.connect() as conn:
        names = await conn.execute(text("SELECT index_name FROM deferred_indexes"))
        return list(names.scalars())


async def some_orders(pg_store: EventStore, count: int) -> None:
    bus = CommandBus()
    register_order_handlers(bus, pg_store)
    for number in range(count):
        await create_order(bus, f"customer-{number % 3}", line(f"sku-{number}", 1, "2.50"))


def idle_side(store: EventStore, **runner: int) -> ReadSide:
    return ReadSide.create(store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY, **runner)


class Crash(Exception):
    pass


async def crashed_mid_rebuild(store: EventStore) -> ReadSide:
    """A rebuild of order_views stopped by an exception after its first window of 10
    events has committed; the read side it ran on."""

    def crash(_: object) -> None:
        raise Crash

    crashing = idle_side(store, rebuild_batch_size=10, rebuild_window=10)
    with pytest.raises(Crash):
        await crashing.runner.rebuild("order_views", crash)
    return crashing


async def test_each_rebuild_ends_with_the_indexes_of_the_migrations(pg_store: EventStore) -> None:
    await some_orders(pg_store, 30)
    side = idle_side(pg_store)
    await side.runner.catch_up()
    migrated = await indexes(pg_store)
    assert "ix_order_views_search" in migrated

    for name in side.runner.names:
        await side.runner.rebuild(name)
        assert side.runner.status(name).state is ProjectionState.RUNNING
        assert await indexes(pg_store) == migrated
    assert await deferred(pg_store) == []


async def test_a_crash_mid_rebuild_is_repaired_by_the_next_runner(pg_store: EventStore) -> None:
    await some_orders(pg_store, 30)
    await idle_side(pg_store).runner.catch_up()
    migrated = await indexes(pg_store)
    tables = await read_tables(pg_store)

    crashing = await crashed_mid_rebuild(pg_store)
    status = crashing.runner.status("order_views")
    assert status.state is ProjectionState.REBUILDING and status.position > 0
    assert "ix_order_views_search" not in await indexes(pg_store)
    assert "ix_order_views_search" in await deferred(pg_store)

    restarted = idle_side(pg_store, rebuild_batch_size=10, rebuild_window=10)
    await restarted.runner.catch_up()
    assert restarted.runner.status("order_views").state is ProjectionState.RUNNING
    assert await indexes(pg_store) == migrated
    assert await deferred(pg_store) == []
    assert await read_tables(pg_store) == tables


async def test_a_rebuild_reset_again_before_it_ended_still_restores_them(
    pg_store: EventStore,
) -> None:
    await some_orders(pg_store, 5)
    side = idle_side(pg_store, rebuild_batch_size=2, rebuild_window=2)
    await side.runner.catch_up()
    migrated = await indexes(pg_store)

    class Stopped(Exception):
        pass

    def stop(_: object) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        await side.runner.rebuild("order_views", stop)
    await side.runner.rebuild("order_views")
    assert await indexes(pg_store) == migrated
    assert await deferred(pg_store) == []


async def index_memory_after(
    store: EventStore, configured: str, ending: Callable[[AsyncConnection], Awaitable[object]]
) -> str:
    """maintenance_work_mem in a transaction set to `configured` once `ending` ran in it."""
    async with store.engine.begin() as conn:
        await conn.execute(text(f"SET LOCAL maintenance_work_mem = '{configured}'"))
        await ending(conn)
        memory = (await conn.execute(text("SHOW maintenance_work_mem"))).scalar_one()
        await conn.rollback()
    return str(memory)


async def leave_rebuilding(conn: AsyncConnection) -> None:
    """What fires migration 0004's trigger: a checkpoint leaving REBUILDING."""
    await conn.execute(
        text("UPDATE projection_checkpoints SET state = 'RUNNING' WHERE name = 'order_views'")
    )


async def index_shadows(conn: AsyncConnection) -> None:
    await shadow_tables.index_shadows(conn, [], "_v2")


async def test_the_indexes_are_built_with_at_least_256_mb_never_less_than_configured(
    pg_store: EventStore,
) -> None:
    async with pg_store.write_transaction() as conn:
        await checkpoints.ensure(conn, ["order_views"])
        await checkpoints.reset(conn, "order_views")

    raised = await index_memory_after(pg_store, "64MB", leave_rebuilding)
    kept = await index_memory_after(pg_store, "1GB", leave_rebuilding)

    assert (raised, kept) == ("256MB", "1GB")


async def test_a_shadow_build_indexes_with_at_least_256_mb(pg_store: EventStore) -> None:
    assert await index_memory_after(pg_store, "64MB", index_shadows) == "256MB"


async def search_index_options(store: EventStore) -> list[str]:
    async with store.engine.connect() as conn:
        options = await conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'ix_order_views_search'")
        )
        return list(options.scalar_one() or [])


async def test_the_search_index_takes_entries_at_once_also_after_a_rebuild(
    pg_store: EventStore,
) -> None:
    """No list of pending entries, whose merge stalled the batch that filled it for 100 ms
    (migration 0010)."""
    await some_orders(pg_store, 3)
    migrated = await search_index_options(pg_store)
    await idle_side(pg_store).runner.rebuild("order_views")

    assert migrated == ["fastupdate=off"]
    assert await search_index_options(pg_store) == migrated
