"""kill -9 of a process mid-rebuild, between two of its bulk windows: the runner that
takes over resumes from the last window committed and ends with the tables that the
incremental batches and a fold of each stream give. And an event the bulk replay cannot
apply stops it FAILED, named, with every event before it applied."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore import EventStore, LoggedEvent
from handlers.bus import CommandBus
from readmodels import ReadSide
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.projection import Replay, WindowWrite
from readmodels.results import ProjectionState
from readmodels.running.bulk_replay import bulk_replay
from readmodels.status import checkpoints
from tests.eventstore.log_by_hand import read_all
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY, BeforeEachWindow
from tests.readmodels.test_rebuild import as_folded, folded_from_streams, read_tables, writer

WINDOW = 97  # many windows over the test's log, and many orders spanning two of them

# Resets both projections, replays order_views to the middle of the log and customer_summaries
# for three windows, and dies (SIGKILL) right after the third window committed.
CRASHING_REBUILD = f"""
import asyncio, os, signal, sys
from eventstore import EventStore, create_engine
from readmodels.customer_summaries.projection import CustomerSummariesProjection
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.running.applier import ProjectionApplier, RetryPolicy
from readmodels.running.bulk_replay import bulk_replay
from readmodels.status.status_hub import StatusHub

async def main(url, middle, head):
    store = EventStore(create_engine(url))
    store.start()
    views, summaries = OrderViewsProjection(), CustomerSummariesProjection()
    for projection in (views, summaries):
        await ProjectionApplier(store, projection, StatusHub(), RetryPolicy(), lambda: 0).reset()
    await bulk_replay(store, views, views.name, until=middle, window={WINDOW})
    windows = []
    def count(events):
        windows.append(events)
        if len(windows) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    await bulk_replay(store, summaries, summaries.name, until=head, window={WINDOW}, on_batch=count)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def settled_log(store: EventStore, bus: CommandBus) -> tuple[list[UUID], int]:
    orders: list[UUID] = []
    await asyncio.gather(*(writer(bus, seed, orders) for seed in range(8)))
    return orders, await store.head_position()


async def test_a_rebuild_killed_between_windows_resumes_to_the_same_tables(
    store: EventStore, bus: CommandBus, database_url: str
) -> None:
    orders, head = await settled_log(store, bus)
    incremental_side = ReadSide.create(store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    await incremental_side.runner.catch_up()
    incremental = await read_tables(store)

    positions = [event.position for event in await read_all(store, 0, limit=100_000)]
    middle = positions[len(positions) // 2]
    crashing = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_REBUILD, database_url, str(middle), str(head)
    )
    assert await crashing.wait() == -signal.SIGKILL
    async with store.engine.connect() as conn:
        left = await checkpoints.load(conn, ["order_views", "customer_summaries"])
    for name, row in left.items():
        assert row.state == ProjectionState.REBUILDING.value, name
        assert 0 < row.position < head, name
    assert left["customer_summaries"].position < left["order_views"].position

    # a runner starting finds both REBUILDING: its followers replay them from there
    side = ReadSide.create(store, safety_interval=NO_SAFETY_NET, retry=QUICK_RETRY)
    async with side:
        assert not (await side.waiter.wait_for(head, timeout=60)).stale
        await side.runner.catch_up()  # past the head the follower may still be settling
        assert all(
            side.runner.status(name).state is ProjectionState.RUNNING for name in side.runner.names
        )
    resumed = await read_tables(store)

    assert len(orders) > 300
    assert resumed == incremental
    assert as_folded(resumed) == await folded_from_streams(store, orders)


class FailingAt(OrderViewsProjection):
    """order_views that cannot apply the event at one position, however it is given."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        self._refuse(events)
        await super().apply(conn, events)

    def replay(self) -> Replay:
        return BeforeEachWindow(super().replay(), self._refused)

    async def _refused(self, events: Sequence[LoggedEvent]) -> None:
        self._refuse(events)

    def _refuse(self, events: Sequence[LoggedEvent]) -> None:
        if any(event.position == self.position for event in events):
            raise ValueError("cannot apply this one")


async def test_an_event_the_replay_cannot_apply_stops_it_failed_after_all_before_it(
    store: EventStore, bus: CommandBus
) -> None:
    _, head = await settled_log(store, bus)
    positions = [event.position for event in await read_all(store, 0, limit=100_000)]
    culprit = positions[len(positions) * 2 // 3]
    views = OrderViewsProjection()
    async with store.write_transaction() as conn:
        await checkpoints.ensure(conn, [views.name])
        await checkpoints.reset(conn, views.name)

    row = await bulk_replay(store, FailingAt(culprit), views.name, until=head, window=WINDOW)

    assert row.state == ProjectionState.FAILED.value
    assert row.position == positions[positions.index(culprit) - 1]
    assert f"event at position {culprit} " in row.last_error
    applied = [view["last_position"] for view in (await read_tables(store))["order_views"]]
    assert applied and max(applied) < culprit


class FailingWriteOnce(OrderViewsProjection):
    """order_views whose rebuild's write of the window holding one position fails once,
    after writing its rows (as a constraint checked at the end would)."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position
        self.failed = False

    def replay(self) -> Replay:
        return _FailingWrite(super().replay(), self)


class _FailingWrite:
    def __init__(self, replay: Replay, owner: FailingWriteOnce) -> None:
        self._replay = replay
        self._owner = owner

    async def fold(self, engine: AsyncEngine, events: Sequence[LoggedEvent]) -> WindowWrite:
        write = await self._replay.fold(engine, events)
        owner = self._owner
        if owner.failed or all(event.position != owner.position for event in events):
            return write

        async def failing(conn: AsyncConnection) -> None:
            owner.failed = True
            await write(conn)
            raise ValueError("the window's write failed")

        return failing


async def test_a_window_whose_write_fails_is_applied_one_event_at_a_time_and_the_rest_in_windows(
    store: EventStore, bus: CommandBus
) -> None:
    orders, head = await settled_log(store, bus)
    positions = [event.position for event in await read_all(store, 0, limit=100_000)]
    views = FailingWriteOnce(positions[len(positions) // 3])
    async with store.write_transaction() as conn:
        await checkpoints.ensure(conn, [views.name])
        await checkpoints.reset(conn, views.name)

    # the window after it is folded while it is written: from rows it never committed
    row = await bulk_replay(store, views, views.name, until=head, window=WINDOW)

    assert views.failed
    assert row.state == ProjectionState.REBUILDING.value and row.position == head
    rebuilt = as_folded(await read_tables(store))["views"]
    assert rebuilt == (await folded_from_streams(store, orders))["views"]
