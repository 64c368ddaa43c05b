"""Kill -9 of the worker that runs the projections, under a steady write load."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scaleout.apis import api_processes
from tests.scaleout.clients import Load
from tests.scaleout.counting import NAME as COUNTING
from tests.scaleout.database import (
    applications,
    connected,
    lock_holder,
    projected,
    read_tables,
)
from tests.scaleout.processes import ROOT, Worker, workers

pytestmark = pytest.mark.scaleout

TIMEOUT = 55.0
# the server hands the lock to the next waiter when the holder's session ends: the bound
# covers process start-up noise on a busy machine, not a timer of ours
TAKEOVER_LIMIT = 10.0
BEFORE_KILL, AFTER_TAKEOVER = 25, 25


async def test_another_worker_takes_over_and_applies_no_event_twice(
    database: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(TIMEOUT):
        async with (
            workers(database, 2) as running,
            api_processes(database, tmp_path, 1) as [(_, api)],
            connected(database) as connection,
        ):
            holder = await _holder_of_counting(running)
            [survivor] = [worker for worker in running if worker is not holder]
            backend = await lock_holder(connection, COUNTING)
            assert backend is not None

            load = Load([api], concurrency=4)
            await load.at_least(BEFORE_KILL, within=20)
            seen = len(survivor.lines)
            holder.kill()
            await survivor.logged(f"running projection {COUNTING}", TAKEOVER_LIMIT, after=seen)
            # it logs that once the server has granted it the lock
            assert await lock_holder(connection, COUNTING) not in (None, backend)
            await load.at_least(len(load.created) + AFTER_TAKEOVER, within=20)
            await load.stop()
            await projected(database, load.last_position, within=15)
            assert all(survivor.holds(name) for name in ("order_views", "customer_summaries"))

            logged, applied, repeated = await applications(connection)
            assert (applied, repeated) == (logged, 0)
            assert logged >= BEFORE_KILL + AFTER_TAKEOVER
            projected_tables = await read_tables(connection)

        # with no worker left the rebuild replays in its own process
        await asyncio.to_thread(_rebuild_all, database)
        async with connected(database) as connection:
            assert await read_tables(connection) == projected_tables


async def _holder_of_counting(running: list[Worker]) -> Worker:
    claims = {
        asyncio.create_task(worker.logged(f"running projection {COUNTING}", 15)): worker
        for worker in running
    }
    done, pending = await asyncio.wait(claims, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    [first] = done
    first.result()
    return claims[first]


def _rebuild_all(database_url: str) -> None:
    rebuilt = subprocess.run(
        [sys.executable, "-m", "schema.cli", "rebuild", "--all"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
