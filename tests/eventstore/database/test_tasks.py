"""Closing background tasks: a cancellation of the closer itself must never be lost."""

from __future__ import annotations

import asyncio

import pytest

from eventstore.database import cancel_and_wait


class SlowToEnd:
    """A task that, once cancelled, cleans up until `release` is set."""

    def __init__(self) -> None:
        self.cleaning = asyncio.Event()
        self.release = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            self.cleaning.set()
            await self.release.wait()


async def test_the_tasks_have_ended_when_it_returns() -> None:
    slow = SlowToEnd()
    closing = asyncio.create_task(cancel_and_wait([slow.task]))
    await slow.cleaning.wait()
    assert not closing.done()

    slow.release.set()
    await closing

    assert slow.task.cancelled()


async def test_a_closer_cancelled_while_it_waits_is_cancelled_not_carried_on() -> None:
    # `with suppress(CancelledError): await task` swallowed this cancellation, and a
    # projection follower cancelled that way looped on for an hour: the hung test runs
    slow = SlowToEnd()

    async def close_then_carry_on() -> str:
        await cancel_and_wait([slow.task])
        return "carried on"

    closer = asyncio.create_task(close_then_carry_on())
    await slow.cleaning.wait()
    closer.cancel()

    with pytest.raises(asyncio.CancelledError):
        await closer
    slow.release.set()
    with pytest.raises(asyncio.CancelledError):
        await slow.task


async def test_an_error_a_task_ended_with_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def fail() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(fail())
    await asyncio.wait([failed])

    await cancel_and_wait([failed])

    assert "ended with an error" in caplog.text
    assert "boom" in caplog.text
