"""The two kinds of rebuild never run at once on one projection: a build beside the live
tables would switch them out from under a rebuild in place, and a rebuild in place would
reset the position such a build's switch waits for. An in-place rebuild also frees the
disk an interrupted build beside it left behind."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from eventstore import EventStore
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from readmodels import ReadSide, RebuildInProgress
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.running.leases import AdvisoryLockLeases
from readmodels.running.shadow_build import shadow_build_of
from readmodels.status import checkpoints
from tests.readmodels.conftest import NO_SAFETY_NET, create_order
from tests.readmodels.test_rebuild import as_folded, folded_from_streams, read_tables


async def shadow_leftovers(store: EventStore) -> tuple[list[str], list[str]]:
    """The tables and checkpoint rows of builds beside the live tables."""
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        builds = await checkpoints.load_builds(conn, ["order_views", "customer_summaries"])
    return sorted(t for t in tables if "__v" in t), sorted(row.name for row in builds.values())


async def test_a_build_beside_waits_for_a_rebuild_in_place_to_finish(
    store: EventStore, bus: CommandBus
) -> None:
    created = await create_order(bus, "ada")
    side = ReadSide.create(store, safety_interval=NO_SAFETY_NET)
    await side.runner.catch_up()
    before = await shadow_leftovers(store)  # an earlier test's, in a shared database
    # what a rebuild in place (here, or in another process) does first
    async with store.write_transaction() as conn:
        await checkpoints.reset(conn, "order_views")

    with pytest.raises(RebuildInProgress, match="order_views is being rebuilt in place"):
        await side.runner.shadow_rebuild("order_views")
    assert await shadow_leftovers(store) == before  # refused before it made anything

    await side.runner.rebuild("order_views")  # the rebuild in place ends...
    await side.runner.shadow_rebuild("order_views")  # ...and then the build beside may run
    folded = await folded_from_streams(store, [created.order_id])
    assert as_folded(await read_tables(store)) == folded


async def test_a_rebuild_in_place_drops_what_an_interrupted_build_beside_left(
    store: EventStore, bus: CommandBus
) -> None:
    created = await create_order(bus, "ada")
    side = ReadSide.create(store, safety_interval=NO_SAFETY_NET)
    await side.runner.catch_up()
    # a build beside the live tables, interrupted after it made its tables
    await shadow_build_of(store, OrderViewsProjection()).prepare(fresh=True)
    assert (await shadow_leftovers(store))[1] == ["order_views@1"]

    await side.runner.rebuild("order_views")

    assert await shadow_leftovers(store) == ([], [])
    folded = await folded_from_streams(store, [created.order_id])
    assert as_folded(await read_tables(store)) == folded


async def test_a_rebuild_in_place_is_refused_while_another_process_builds_beside(
    pg_store: EventStore,
) -> None:
    bus = CommandBus()
    register_order_handlers(bus, pg_store)
    await create_order(bus, "ada")
    side = ReadSide.create(pg_store, safety_interval=NO_SAFETY_NET)
    await side.runner.catch_up()
    build = shadow_build_of(pg_store, OrderViewsProjection())
    await build.prepare(fresh=True)
    # the building process's lease: an advisory lock on a connection of its own
    lease = await AdvisoryLockLeases(pg_store.engine.url).acquire(build.checkpoint)
    try:
        with pytest.raises(RebuildInProgress, match="version 1 is being built beside"):
            await side.runner.rebuild("order_views")
        assert (await shadow_leftovers(pg_store))[1] == ["order_views@1"]  # left alone
    finally:
        await lease.release()
    await side.runner.rebuild("order_views")  # its builder gone: what it left is dropped
    assert await shadow_leftovers(pg_store) == ([], [])
