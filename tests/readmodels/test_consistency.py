"""The consistency waiter and read-your-writes queries: pushed by publications, never polled."""

from __future__ import annotations

import statistics
import time

import pytest

from eventstore import EventStore
from handlers.bus import CommandBus
from readmodels import (
    ConsistencyWaiter,
    GetCustomerSummary,
    GetOrderById,
    InvalidQuery,
    ProjectionState,
    ProjectionStatus,
    ReadSide,
    StatusHub,
)
from tests.readmodels.conftest import create_order


def status(name: str, position: int) -> ProjectionStatus:
    return ProjectionStatus(
        name=name,
        position=position,
        head_position=position,
        state=ProjectionState.RUNNING,
        last_error=None,
        updated_at=None,
    )


async def test_the_waiter_wakes_within_milliseconds_of_a_publication(store: EventStore) -> None:
    hub = StatusHub()
    waiter = ConsistencyWaiter(hub, store, ["order_views", "customer_summaries"])
    progress = waiter.watch(100, timeout=10)
    first = await anext(progress)  # subscribed, looked, not there yet
    hub.publish(status("order_views", 100))
    partly = await anext(progress)

    published = time.perf_counter()
    hub.publish(status("customer_summaries", 120))
    last = await anext(progress)
    woke_after = time.perf_counter() - published

    assert not first.reached and not first.timed_out
    assert not partly.reached
    assert last.reached and not last.timed_out
    assert [s.position for s in last.projections] == [100, 120]
    assert woke_after < 0.05
    assert await anext(progress, None) is None  # the stream ends once reached
    assert hub.subscriber_count == 0


async def test_read_your_writes_answers_within_milliseconds_of_the_commit(
    bus: CommandBus, read_side: ReadSide
) -> None:
    delays = []
    for n in range(20):
        outcome = await create_order(bus, f"c-{n}")
        committed = time.perf_counter()
        result = await read_side.bus.ask(
            GetOrderById(order_id=outcome.order_id, min_position=outcome.position, timeout=10)
        )
        delays.append(time.perf_counter() - committed)
        assert result.value is not None
        assert not result.consistency.stale

    # the delay includes applying the batch: generous bounds for a noisy machine
    assert statistics.median(delays) < 0.25
    assert max(delays) < 2.0


async def test_a_position_not_reached_in_time_answers_stale_without_raising(
    bus: CommandBus, read_side: ReadSide
) -> None:
    outcome = await create_order(bus)
    beyond = outcome.position + 10**9
    started = time.perf_counter()

    result = await read_side.bus.ask(
        GetOrderById(order_id=outcome.order_id, min_position=beyond, timeout=0.05)
    )
    waited = time.perf_counter() - started

    assert result.consistency.stale
    assert result.consistency.position == beyond
    assert result.consistency.awaited == ("order_views",)
    assert 0.05 <= waited < 2.0
    assert read_side.hub.subscriber_count == 0


async def test_a_query_awaits_what_it_reads_or_every_projection(
    bus: CommandBus, read_side: ReadSide
) -> None:
    outcome = await create_order(bus, "ada")

    summary = await read_side.bus.ask(
        GetCustomerSummary(customer_id="ada", min_position=outcome.position)
    )
    order = await read_side.bus.ask(
        GetOrderById(order_id=outcome.order_id, min_position=outcome.position, all_projections=True)
    )
    plain = await read_side.bus.ask(GetCustomerSummary(customer_id="ada"))

    assert summary.consistency.awaited == ("customer_summaries",)
    assert summary.value is not None and summary.value.order_count == 1
    assert order.consistency.awaited == ("order_views", "customer_summaries")
    assert not summary.consistency.stale and not order.consistency.stale
    assert (plain.consistency.stale, plain.consistency.position) == (False, None)


async def test_the_consistency_stream_reports_until_it_times_out(store: EventStore) -> None:
    hub = StatusHub()
    waiter = ConsistencyWaiter(hub, store, ["order_views"])

    messages = [m async for m in waiter.watch(50, ["order_views"], timeout=0.05)]

    assert [(m.reached, m.timed_out) for m in messages][-1] == (False, True)
    assert all(not m.reached for m in messages)
    assert messages[-1].projections[0].name == "order_views"


@pytest.mark.parametrize(
    ("projections", "position", "field"),
    [(["order_views", "nope"], 1, "projections"), (None, -1, "position")],
)
async def test_unknown_projections_or_a_negative_position_are_refused(
    store: EventStore, projections: list[str] | None, position: int, field: str
) -> None:
    waiter = ConsistencyWaiter(StatusHub(), store, ["order_views"])
    with pytest.raises(InvalidQuery) as refused:
        await waiter.wait_for(position, projections, timeout=1)
    assert refused.value.field == field
