"""LogReads: one read of the log for the appliers that ask for the same events at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from eventstore import EventStore, LoggedEvent

Events = list[LoggedEvent]


class LogReads:
    """The projections of a runner mostly stand at the same position and are woken by the
    same append, so they ask for the same events at the same moment: the first asking
    reads, and the others get its answer while no append was announced since it began
    (`generation` counts the announcements). The runner asks for what was announced before
    it reads, so a read begun earlier misses nothing that a new one would find."""

    def __init__(self, store: EventStore, generation: Callable[[], int]) -> None:
        self._store = store
        self._generation = generation
        self._reads: dict[tuple[int, int], _SharedRead] = {}

    def read(self, after: int, limit: int) -> asyncio.Future[Events]:
        """`EventStore.read_log(after, limit)` as a future; cancelling it drops it for this
        caller only (the read ends when every caller dropped it)."""
        key, generation = (after, limit), self._generation()
        shared = self._reads.get(key)
        if shared is None or shared.generation != generation or shared.task.done():
            shared = _SharedRead(asyncio.ensure_future(self._store.read_log(after, limit)))
            shared.generation = generation
            self._reads[key] = shared
            shared.task.add_done_callback(lambda _: self._forget(key, shared))
        return shared.answer()

    def _forget(self, key: tuple[int, int], shared: _SharedRead) -> None:
        if self._reads.get(key) is shared:
            del self._reads[key]
        if not shared.task.cancelled():
            shared.task.exception()  # seen here: each caller sees it in its own answer


class _SharedRead:
    def __init__(self, task: asyncio.Future[Events]) -> None:
        self.task = task
        self.generation = 0
        self._waiting = 0

    def answer(self) -> asyncio.Future[Events]:
        answer: asyncio.Future[Events] = asyncio.get_running_loop().create_future()
        self._waiting += 1
        self.task.add_done_callback(lambda task: _relay(task, answer))
        answer.add_done_callback(self._dropped)
        return answer

    def _dropped(self, answer: asyncio.Future[Events]) -> None:
        if not answer.cancelled():
            return
        self._waiting -= 1
        if self._waiting == 0:
            self.task.cancel()


def _relay(task: asyncio.Future[Events], answer: asyncio.Future[Events]) -> None:
    if answer.done():
        return
    if task.cancelled():
        answer.cancel()
    elif (error := task.exception()) is not None:
        answer.set_exception(error)
    else:
        answer.set_result(task.result())
