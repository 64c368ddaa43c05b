"""A rolling deploy on PostgreSQL, in real processes: an old process (version 1 of
order_views) keeps the live tables up to date while exactly one of two new processes
(version 2) builds its version beside them; after the switch the old process stands by
and a new one follows. Each process is tests/readmodels/deploy_process.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from eventstore import EventStore
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from readmodels import ReadSide
from tests.readmodels.conftest import NO_SAFETY_NET, create_order
from tests.readmodels.test_rebuild import as_folded, folded_from_streams, read_tables
from tests.readmodels.test_version_deploy import known_orders, live_version

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0

# they make version 2 live, with a column version 1 lacks
pytestmark = pytest.mark.usefixtures("v1_tables_restored")


class Deployed:
    """A running deploy_process: the lines it has printed so far, read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode().rstrip())
            self._changed.set()
        self._changed.set()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    async def until(self, text: str) -> Deployed:
        """Wait until the process has printed a line containing `text`."""
        async with asyncio.timeout(DEADLINE):
            while not self.said(text):
                assert not self._reading.done(), f"ended before {text!r}: {self.lines}"
                self._changed.clear()
                await self._changed.wait()
        return self

    async def tell(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()

    async def stop(self) -> int:
        """Tell it to quit; its exit status (killed, and failed, if it does not quit)."""
        with contextlib.suppress(ConnectionError):
            await self.tell("quit")
        try:
            async with asyncio.timeout(DEADLINE):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        finally:
            await self._reading
        return code


@contextlib.asynccontextmanager
async def deployed(url: str, version: int) -> AsyncIterator[Deployed]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.readmodels.deploy_process",
        url,
        str(version),
        cwd=ROOT,
        env=os.environ.copy(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    child = Deployed(process)
    try:
        await child.until("started")
        yield child
    finally:
        assert await child.stop() == 0, child.lines


async def first_to_say(children: Sequence[Deployed], text: str) -> Deployed:
    waits = [asyncio.create_task(child.until(text)) for child in children]
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    return next(iter(done)).result()


async def test_one_new_process_builds_while_the_old_one_follows_then_hands_over(
    postgres_url: str, pg_store: EventStore
) -> None:
    bus = CommandBus()
    register_order_handlers(bus, pg_store)
    known = await known_orders(pg_store, bus)
    # a read side running no projection: its waiter hears every checkpoint commit
    watcher = ReadSide.create(pg_store, safety_interval=NO_SAFETY_NET)
    await watcher.start(projections=False)
    try:
        async with deployed(postgres_url, 1) as old:
            await old.until("running projection order_views")
            async with deployed(postgres_url, 2) as new, deployed(postgres_url, 2) as newer:
                builder = await first_to_say([new, newer], "at-gate")
                during = await create_order(bus, "during-the-build")
                followed = await watcher.waiter.wait_for(during.position, timeout=DEADLINE)
                lines_during = [list(new.lines), list(newer.lines)]
                await builder.tell("open")
                await new.until("switched")
                await newer.until("switched")
                await old.until("version 2 is live, this code is 1; standing by")
                await first_to_say([new, newer], "running projection order_views")
                after = await create_order(bus, "after-the-switch")
                caught_up = await watcher.waiter.wait_for(after.position, timeout=DEADLINE)
    finally:
        await watcher.close()

    assert not followed.stale  # the old version kept the live tables up to date
    assert not any(
        "running projection order_views" in line for lines in lines_during for line in lines
    )
    builds = [line for child in (new, newer) for line in child.lines if line.startswith("prepare")]
    assert builds == ["prepare order_views@2"]  # one built; the other found it switched
    assert not caught_up.stale  # a new process follows version 2
    assert await live_version(pg_store) == 2
    orders = [*known, during.order_id, after.order_id]
    assert as_folded(await read_tables(pg_store)) == await folded_from_streams(pg_store, orders)
