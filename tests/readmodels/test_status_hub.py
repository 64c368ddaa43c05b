"""The update hub: fan-out, coalescing for slow consumers, and no leaked listeners."""

from __future__ import annotations

import asyncio
import gc

from readmodels import ProjectionState, ProjectionStatus, StatusHub


def status(
    name: str, position: int, state: ProjectionState = ProjectionState.RUNNING, revision: int = 0
) -> ProjectionStatus:
    return ProjectionStatus(
        name=name,
        position=position,
        head_position=position,
        state=state,
        last_error=None,
        updated_at=None,
        revision=revision,
    )


async def test_a_status_older_by_revision_than_the_last_published_is_dropped() -> None:
    """The same commit comes from this process's runner and from NOTIFY, and a rebuild
    elsewhere moves the position back to 0: the checkpoint's revision orders them."""
    hub = StatusHub()
    published: list[ProjectionStatus] = []
    hub.observe(published.append)

    hub.publish(status("a", 50, revision=7))
    hub.publish(status("a", 40, revision=6))  # late, by the other road
    hub.publish(status("a", 50, revision=7))  # the same commit again
    hub.publish(status("a", 0, ProjectionState.REBUILDING, revision=8))

    assert published == [
        status("a", 50, revision=7),
        status("a", 0, ProjectionState.REBUILDING, revision=8),
    ]
    assert hub.latest("a") == published[-1]


async def test_a_slow_consumer_gets_the_newest_status_of_each_projection() -> None:
    hub = StatusHub()
    async with hub.subscribe() as updates:
        for position in range(1, 1001):
            hub.publish(status("a", position))
        hub.publish(status("b", 7))
        hub.publish(status("a", 1001, ProjectionState.FAILED))

        received = [await anext(updates), await anext(updates)]

    assert received == [status("a", 1001, ProjectionState.FAILED), status("b", 7)]


async def test_a_subscription_sees_only_the_projections_it_named() -> None:
    hub = StatusHub()
    async with hub.subscribe(["b"]) as updates:
        hub.publish(status("a", 1))
        hub.publish(status("b", 2))
        assert await anext(updates) == status("b", 2)


async def test_every_subscriber_gets_each_update_and_latest_remembers_it() -> None:
    hub = StatusHub()
    async with hub.subscribe() as first, hub.subscribe() as second:
        hub.publish(status("a", 3))
        assert [await anext(first), await anext(second)] == [status("a", 3)] * 2
    assert hub.latest("a") == status("a", 3)
    assert hub.latest("b") is None


async def test_closing_ends_a_waiting_consumer_and_unsubscribes() -> None:
    hub = StatusHub()
    subscription = hub.subscribe()
    started = asyncio.Event()

    async def consume() -> ProjectionStatus | None:
        started.set()  # nothing yields between here and the wait inside anext
        return await anext(subscription, None)

    consumer = asyncio.create_task(consume())
    await started.wait()
    subscription.close()

    assert await consumer is None
    assert hub.subscriber_count == 0


async def test_leaving_the_block_or_dropping_the_subscription_leaks_nothing() -> None:
    hub = StatusHub()
    async with hub.subscribe():
        assert hub.subscriber_count == 1
    assert hub.subscriber_count == 0

    forgotten = hub.subscribe()
    del forgotten
    gc.collect()
    assert hub.subscriber_count == 0
    hub.publish(status("a", 1))  # nobody left to offer it to
