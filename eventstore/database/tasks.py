"""Background tasks: one that runs from start to close, and ending tasks without losing a
cancellation of the one that ends them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel `tasks` and wait until every one has ended.

    The usual `with suppress(CancelledError): await task` cannot tell the awaited task's
    cancellation from a cancellation of the caller, and swallows both: a caller cancelled
    while it waits then carries on as if nothing happened (a runner that never stops).
    `asyncio.wait` raises only for the caller. An error a task ended with is logged, since
    nobody else will see it.
    """
    pending = list(tasks)
    for task in pending:
        task.cancel()
    if not pending:
        return
    await asyncio.wait(pending)
    for task in pending:
        if not task.cancelled() and task.exception() is not None:
            log.error("%r ended with an error", task, exc_info=task.exception())


class BackgroundTask:
    """A coroutine `_run` that runs from `start` until `close` cancels it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def close(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
