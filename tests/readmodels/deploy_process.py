"""One process of a rolling deploy, for tests/readmodels/test_rolling_deploy.py:
`python -m tests.readmodels.deploy_process URL VERSION` runs the projections with
order_views at VERSION (1: the product's code; 2: a new column, its build waiting at a
gate) until told `quit` on stdin. `open` opens the gate.

It prints its runner's log lines (which lease it takes, builds, leaves) on stdout, and:
`started`, `prepare <checkpoint>` when it starts a build, `at-gate`, and `switched` when it
sees version 2 live."""

from __future__ import annotations

import asyncio
import logging
import sys

from eventstore import EventStore, create_engine
from eventstore.database import cancel_and_wait
from readmodels import Projection, ReadSide
from readmodels.customer_summaries.projection import CustomerSummariesProjection
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.running.shadow_build import ShadowBuild
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY
from tests.readmodels.test_version_deploy import GatedOrderViewsWithNote


def say(line: str) -> None:
    print(line, flush=True)


class SayingPrepare:
    """ShadowBuild.prepare, announced: the parent counts the processes that build."""

    original = ShadowBuild.prepare

    @staticmethod
    async def prepare(build: ShadowBuild, *, fresh: bool) -> int:
        say(f"prepare {build.checkpoint}")
        return await SayingPrepare.original(build, fresh=fresh)


class SayingGate(GatedOrderViewsWithNote):
    def in_tables(self, suffix: str) -> SayingGate:
        return SayingGate(suffix)

    async def _wait_at_gate(self) -> None:
        if not GatedOrderViewsWithNote.gate.is_set():
            say("at-gate")
        await super()._wait_at_gate()


async def commands() -> None:
    """Act on stdin's lines until `quit` (or its end)."""
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "open":
            GatedOrderViewsWithNote.gate.set()
        elif line in ("quit", ""):
            return


async def announce_switch(side: ReadSide) -> None:
    async with side.hub.subscribe(["order_views"]) as updates:
        async for status in updates:
            if status.version == 2:
                say("switched")
                return


async def main(url: str, version: int) -> None:
    GatedOrderViewsWithNote.gate = asyncio.Event()
    GatedOrderViewsWithNote.reached = asyncio.Event()
    GatedOrderViewsWithNote.free_windows = 0
    ShadowBuild.prepare = SayingPrepare.prepare  # type: ignore[method-assign]
    views = OrderViewsProjection() if version == 1 else SayingGate()
    projections: list[Projection] = [views, CustomerSummariesProjection()]
    engine = create_engine(url)
    side = ReadSide.create(
        EventStore(engine), projections, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY
    )
    try:
        await side.start()
        say("started")
        watching = asyncio.create_task(announce_switch(side))
        await commands()
        await cancel_and_wait([watching])
    finally:
        await side.close()
        await engine.dispose()


if __name__ == "__main__":
    # the read side's own lines only (the root logger at INFO would log SQLAlchemy's SQL)
    runner_log = logging.getLogger("readmodels")
    runner_log.addHandler(logging.StreamHandler(sys.stdout))
    runner_log.setLevel(logging.INFO)
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
