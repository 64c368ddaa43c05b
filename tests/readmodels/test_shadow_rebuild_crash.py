"""kill -9 of `cqrs-orders rebuild` (a shadow build) mid-build and at the switch: the
live version stays complete and consistent with its checkpoint, and a new rebuild
starts over and switches."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text

from eventstore import EventStore
from handlers.bus import CommandBus
from readmodels import ReadSide
from readmodels.status import checkpoints
from tests.readmodels.test_rebuild import as_folded, folded_from_streams, read_tables, writer

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30.0


async def start_rebuild(database_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schema.cli",
        "rebuild",
        "order_views",
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def until(
    condition: Callable[[], Awaitable[bool]], process: asyncio.subprocess.Process
) -> None:
    """Wait for a state the rebuild reaches, watching the database (the process tells
    nothing of its inner steps)."""
    async with asyncio.timeout(DEADLINE):
        while not await condition():
            assert process.returncode is None, "the rebuild ended before the state"
            await asyncio.sleep(0.005)


async def shadow_started(store: EventStore) -> bool:
    async with store.engine.connect() as conn:
        return "order_views@1" in await checkpoints.load(conn, ["order_views@1"])


async def live_is_consistent(store: EventStore, orders: list[UUID]) -> None:
    """The live tables say what a fold of the log up to their checkpoint says."""
    async with store.engine.connect() as conn:
        live = (await checkpoints.load(conn, ["order_views"]))["order_views"]
    assert live.position == await store.head_position()
    folded = await folded_from_streams(store, orders)
    assert as_folded(await read_tables(store))["views"] == folded["views"]


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL


async def rebuild_to_the_end(database_url: str) -> None:
    process = await start_rebuild(database_url)
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-2000:]


async def orders_projected(store: EventStore, bus: CommandBus) -> list[UUID]:
    orders: list[UUID] = []
    await writer(bus, 1, orders)
    await ReadSide.create(store).runner.catch_up()
    return orders


async def test_kill_mid_build_leaves_the_live_version_and_a_rebuild_starts_over(
    store: EventStore, bus: CommandBus, database_url: str
) -> None:
    orders = await orders_projected(store, bus)

    process = await start_rebuild(database_url)
    await until(lambda: shadow_started(store), process)
    await kill(process)

    await live_is_consistent(store, orders)
    await rebuild_to_the_end(database_url)
    await live_is_consistent(store, orders)
    assert not await shadow_started(store)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_kill_at_the_switch_leaves_the_old_version_live_then_the_next_switches(
    store: EventStore, bus: CommandBus, database_url: str
) -> None:
    orders = await orders_projected(store, bus)
    async with store.engine.connect() as reader:
        # a transaction holds the live table (with no snapshot, which the switch would wait
        # for before it takes the tables): the switch waits for it
        await reader.execute(text("LOCK TABLE order_views IN ACCESS SHARE MODE"))
        process = await start_rebuild(database_url)

        async def switch_waits() -> bool:
            async with store.engine.connect() as conn:
                waiting = await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted "
                        "AND mode = 'AccessExclusiveLock' "
                        "AND relation = CAST('order_views' AS regclass)"
                    )
                )
                return bool(waiting.scalar_one())

        await until(switch_waits, process)
        await kill(process)
        await reader.rollback()

    await live_is_consistent(store, orders)
    await rebuild_to_the_end(database_url)
    await live_is_consistent(store, orders)
    assert not await shadow_started(store)
