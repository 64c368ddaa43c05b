"""The projection runner: atomic batches, failure handling, and wake-ups without polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore, NewEvent, RecordedEvent
from eventstore.tables import events
from handlers.bus import CommandBus
from handlers.events import OrderItemRemoved, codec, stream_id_of
from readmodels import (
    GetOrderById,
    GetProjectionStatuses,
    ProjectionState,
    ProjectionStatus,
    ReadSide,
)
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.order_views.table import order_views
from readmodels.running.runner import _first_of
from readmodels.status import checkpoints
from readmodels.status.checkpoints import projection_checkpoints
from tests.readmodels.conftest import NO_SAFETY_NET, QUICK_RETRY, add_item, create_order, line


class CrashingMidway(OrderViewsProjection):
    """order_views whose first batch crashes after writing half of its rows; its retry
    then pauses until the test has looked at the tables."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.retrying = asyncio.Event()
        self.resume = asyncio.Event()

    async def apply(self, conn: AsyncConnection, batch: Sequence[RecordedEvent]) -> None:
        self.calls += 1
        if self.calls == 1:
            await super().apply(conn, batch[: len(batch) // 2])
            raise RuntimeError("the process died here")
        if self.calls == 2:
            self.retrying.set()
            await self.resume.wait()
        await super().apply(conn, batch)


async def statuses(side: ReadSide) -> dict[str, ProjectionStatus]:
    result = await side.bus.ask(GetProjectionStatuses())
    return {status.name: status for status in result.value}


async def committed_rows_and_checkpoint(store: EventStore) -> tuple[int, int]:
    async with store.engine.connect() as conn:
        rows = len((await conn.execute(select(order_views.c.order_id))).all())
        position = (
            await conn.execute(
                select(projection_checkpoints.c.position).where(
                    projection_checkpoints.c.name == "order_views"
                )
            )
        ).scalar_one()
    return rows, position


async def test_a_batch_that_crashes_midway_keeps_nothing_and_its_retry_lands_once(
    store: EventStore, bus: CommandBus
) -> None:
    orders = [await create_order(bus, f"c-{n}", line("mug", 1, "2.00")) for n in range(4)]
    for created in orders:
        await add_item(bus, created.order_id, "mug", 2, "2.00")
    crashing = CrashingMidway()
    side = ReadSide.create(store, [crashing], retry=QUICK_RETRY)
    catching_up = asyncio.create_task(side.runner.catch_up())

    await crashing.retrying.wait()
    during_retry = await committed_rows_and_checkpoint(store)
    crashing.resume.set()
    await catching_up

    assert during_retry == (0, 0)  # the crashed half-batch left neither rows nor checkpoint
    head = await store.head_position()
    assert await committed_rows_and_checkpoint(store) == (4, head)
    for created in orders:
        view = (await side.bus.ask(GetOrderById(order_id=created.order_id))).value
        assert view is not None
        assert (view.item_count, view.total_amount, view.version) == (3, Decimal("6.00"), 2)
    assert side.runner.status("order_views").state is ProjectionState.RUNNING


async def append_poison(store: EventStore, order_id: UUID, version: int) -> RecordedEvent:
    """An event no command could produce (the product was never on the order), as a buggy
    importer might have written it."""
    event_type, schema_version, data = codec.encode(
        OrderItemRemoved(
            order_id=order_id,
            product_id="ghost",
            quantity=1,
            unit_price=Decimal("1.00"),
            occurred_at=datetime.now(UTC),
        )
    )
    stream = stream_id_of(order_id)
    new = NewEvent(event_type=event_type, schema_version=schema_version, data=data)
    await store.append(stream, "Order", [new], version, uuid4())
    return (await store.read_stream(stream))[-1]


async def first_failure(updates: AsyncIterator[ProjectionStatus]) -> ProjectionStatus:
    async for status in updates:
        if status.state is ProjectionState.FAILED:
            return status
    raise AssertionError("the updates ended without a failure")


async def test_a_poison_event_stops_its_projection_only_until_a_rebuild(
    store: EventStore, bus: CommandBus, read_side: ReadSide
) -> None:
    ada = await create_order(bus, "ada", line("mug", 2, "4.50"))
    async with read_side.hub.subscribe(["order_views"]) as updates:
        bad = await append_poison(store, ada.order_id, version=1)
        bob = await create_order(bus, "bob", line("tea", 1, "3.00"))
        async with asyncio.timeout(10):
            failed = await first_failure(updates)

    others = await read_side.waiter.wait_for(bob.position, ["customer_summaries"], timeout=10)
    stuck = await read_side.waiter.wait_for(bob.position, ["order_views"], timeout=0.05)
    stored = (await statuses(read_side))["order_views"]
    assert not others.stale
    assert stuck.stale
    assert stored.state is ProjectionState.FAILED
    assert stored.position == ada.position < bad.position  # nothing at or after it applied
    assert stored.last_error is not None
    for shown in (f"position {bad.position}", "OrderItemRemoved", "ghost", "2 times"):
        assert shown in stored.last_error
    assert failed.last_error == stored.last_error
    assert (await read_side.bus.ask(GetOrderById(order_id=bob.order_id))).value is None

    # the operator removes the cause, then rebuilds
    async with store.engine.begin() as conn:
        await conn.execute(delete(events).where(events.c.position == bad.position))
    progress = await read_side.runner.rebuild("order_views")
    carol = await create_order(bus, "carol")  # the follower runs again after the rebuild
    resumed = await read_side.waiter.wait_for(carol.position, ["order_views"], timeout=10)

    assert not resumed.stale
    assert progress.done == 2
    assert read_side.runner.status("order_views").state is ProjectionState.RUNNING
    repaired = (await read_side.bus.ask(GetOrderById(order_id=ada.order_id))).value
    assert repaired is not None
    assert [(i.product_id, i.quantity) for i in repaired.items] == [("mug", 2)]
    assert (await read_side.bus.ask(GetOrderById(order_id=bob.order_id))).value is not None


async def test_a_restarted_runner_resumes_from_its_checkpoints(
    store: EventStore, bus: CommandBus
) -> None:
    async with ReadSide.create(store, safety_interval=NO_SAFETY_NET) as first:
        created = await create_order(bus, "ada", line("mug", 1, "1.00"))
        assert not (await first.waiter.wait_for(created.position, timeout=10)).stale
    added = await add_item(bus, created.order_id, "mug", 2, "1.00")  # while no runner runs

    async with ReadSide.create(store, safety_interval=NO_SAFETY_NET) as second:
        caught_up = await second.waiter.wait_for(added.position, timeout=10)
        view = (await second.bus.ask(GetOrderById(order_id=created.order_id))).value

    # a restart from 0 would meet OrderCreated twice and fail instead
    assert not caught_up.stale
    assert view is not None
    assert (view.item_count, view.version) == (3, 2)


async def test_checkpoints_move_past_events_no_projection_handles(
    store: EventStore, idle_side: ReadSide
) -> None:
    new = NewEvent(event_type="InvoiceIssued", schema_version=1, data={"amount": "1.00"})
    appended = await store.append("Invoice-1", "Invoice", [new], 0, uuid4())

    await idle_side.runner.catch_up()

    for status in (await statuses(idle_side)).values():
        assert (status.position, status.lag) == (appended.position, 0)
        assert status.state is ProjectionState.RUNNING


async def test_a_failed_projection_is_tried_again_when_the_runner_restarts(
    store: EventStore, bus: CommandBus
) -> None:
    ada = await create_order(bus, "ada")
    bad = await append_poison(store, ada.order_id, version=1)
    first = ReadSide.create(store, retry=QUICK_RETRY)
    await first.runner.catch_up(bad.position)
    failed = first.runner.status("order_views")
    async with store.engine.begin() as conn:  # the operator removes the cause
        await conn.execute(delete(events).where(events.c.position == bad.position))
    bob = await create_order(bus, "bob")

    restarted = ReadSide.create(store, retry=QUICK_RETRY)
    await restarted.runner.catch_up(bob.position)

    assert failed.state is ProjectionState.FAILED
    status = restarted.runner.status("order_views")
    assert (status.state, status.position, status.last_error) == (
        ProjectionState.RUNNING,
        bob.position,
        None,
    )


async def test_the_wait_for_the_first_of_two_stays_cancelled_while_the_other_ends() -> None:
    # the follower's sleep between batches: an append wins, the wait for a reload is
    # cancelled and ending; a close that cancels the follower right then must stop it,
    # where it used to be swallowed (the follower went on, and the close hung)
    cleaning, release = asyncio.Event(), asyncio.Event()

    async def appended() -> None:
        pass

    async def reload_slow_to_end() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaning.set()
            await release.wait()

    waiting = asyncio.create_task(_first_of(appended(), reload_slow_to_end()))
    await cleaning.wait()
    waiting.cancel()

    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()


async def test_the_wait_for_the_first_of_two_raises_what_the_first_raised() -> None:
    async def failing() -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        await _first_of(failing(), asyncio.Event().wait())


async def test_a_runner_does_not_reload_its_checkpoints_on_hearing_its_own_commits(
    store: EventStore, bus: CommandBus
) -> None:
    """The checkpoint feed can hear a commit before its runner has the answer to its
    COMMIT: a reload then would cost a transaction per batch."""
    checkpoint_reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("SELECT") and "FROM projection_checkpoints" in statement:
            checkpoint_reads.append(statement)

    async with ReadSide.create(store, safety_interval=NO_SAFETY_NET) as side:
        started = await create_order(bus, "first")  # once the followers have loaded theirs
        assert not (await side.waiter.wait_for(started.position, timeout=10)).stale
        event.listen(store.engine.sync_engine, "before_cursor_execute", count)
        try:
            for n in range(10):
                outcome = await create_order(bus, f"c-{n}")
                assert not (await side.waiter.wait_for(outcome.position, timeout=10)).stale
        finally:
            event.remove(store.engine.sync_engine, "before_cursor_execute", count)

    assert checkpoint_reads == []


async def test_a_checkpoint_change_commits_without_waiting_for_the_wal_flush(
    pg_store: EventStore,
) -> None:
    async with pg_store.write_transaction() as conn:
        await checkpoints.ensure(conn, ["order_views"])
    async with pg_store.write_transaction() as conn:
        assert (await conn.execute(text("SHOW synchronous_commit"))).scalar() == "on"
        assert await checkpoints.advance(conn, "order_views", 0, 1024, caught_up=True)
        assert (await conn.execute(text("SHOW synchronous_commit"))).scalar() == "off"
