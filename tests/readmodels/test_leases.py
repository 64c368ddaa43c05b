"""Leases on PostgreSQL: a released lease ends its session, so the lock goes at once to the
next process, also when the releaser is cancelled midway (its runner closing as it lets go)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from readmodels.running.leases import AdvisoryLockLeases


async def test_a_release_cancelled_while_its_heartbeat_ends_still_frees_the_lock(
    postgres_url: str,
) -> None:
    leases = AdvisoryLockLeases(make_url(postgres_url))
    lease = await leases.acquire("cancelled-release")
    heartbeat = next(
        task for task in asyncio.all_tasks() if task.get_name() == "lease-cancelled-release"
    )
    releasing = asyncio.create_task(lease.release())
    # the cancellation lands at the racy point: the release waits for its heartbeat to end
    heartbeat.add_done_callback(lambda _: releasing.cancel())

    with pytest.raises(asyncio.CancelledError):
        await releasing
    # a bound, not a pause: the server grants the lock to the next waiter once the released
    # session has ended, and never while its connection is left open
    async with asyncio.timeout(10):
        other = await leases.acquire("cancelled-release")
    await other.release()

    assert releasing.cancelled()  # the cancellation did land in the release
