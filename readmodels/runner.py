"""The projection runner: keeps every projection caught up with the log, woken by appends.

Each projection has its own follower task. It applies batches until the log is
exhausted, then sleeps until an append is announced (see wakeups.py); a slow timer is
only a safety net, for a NOTIFY lost with its sender's crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from types import TracebackType

from eventstore import EventStore
from readmodels.errors import InvalidQuery
from readmodels.hub import UpdateHub
from readmodels.projection import Projection
from readmodels.rebuild import ProgressCallback, ProgressCounter, RebuildProgress, log_extent
from readmodels.views import ProjectionStatus
from readmodels.wakeups import MIN_RECHECK, AppendWatch
from readmodels.worker import ProjectionWorker, RetryPolicy

log = logging.getLogger(__name__)


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        hub: UpdateHub,
        *,
        batch_size: int = 500,
        rebuild_batch_size: int = 2000,
        safety_interval: float = 5.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._rebuild_batch_size = rebuild_batch_size
        self._safety_interval = safety_interval
        self._retry = retry or RetryPolicy()
        self._appends = AppendWatch(store)
        self._workers = {
            projection.name: ProjectionWorker(
                store, projection, hub, self._retry, head=lambda: self._appends.latest
            )
            for projection in projections
        }
        self._followers: dict[str, asyncio.Task[None]] = {}

    @property
    def names(self) -> list[str]:
        return list(self._workers)

    def status(self, name: str) -> ProjectionStatus:
        return self._worker(name).status

    async def start(self) -> None:
        """Load every checkpoint, then follow the log in the background until `close`."""
        for worker in self._workers.values():
            await worker.load()
        await self._appends.start()
        for name in self._workers:
            self._follow(name)

    async def close(self) -> None:
        await self._appends.close()
        for task in self._followers.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._followers.clear()

    async def __aenter__(self) -> ProjectionRunner:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def catch_up(self, until: int | None = None) -> None:
        """Bring every projection to position `until` (default: the last committed event)
        now, or until it fails; for callers that do not `start` the runner."""
        target = until if until is not None else (await log_extent(self._store))[1]
        for worker in self._workers.values():
            async with worker.lock:
                await worker.load()
                await self._catch_up_to(worker, target, self._batch_size)

    async def rebuild(
        self, name: str, on_progress: ProgressCallback | None = None
    ) -> RebuildProgress:
        """Empty the projection's tables and replay every event committed before this call
        (and any after) into them. A running follower of the projection pauses meanwhile;
        a stopped (FAILED) one starts again."""
        worker = self._worker(name)
        await self._appends.refresh()
        async with worker.lock:
            total, last = await log_extent(self._store)
            await worker.load()
            await worker.reset()
            counter = ProgressCounter(name, total, on_progress)
            await self._catch_up_to(worker, last, self._rebuild_batch_size, counter.batch_done)
        if self._followers and self._followers[name].done():
            self._follow(name)
        return counter.progress

    def _worker(self, name: str) -> ProjectionWorker:
        if name not in self._workers:
            known = ", ".join(self._workers)
            raise InvalidQuery(f"no projection {name!r} (known: {known})", "projection")
        return self._workers[name]

    async def _catch_up_to(
        self,
        worker: ProjectionWorker,
        target: int,
        batch_size: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Catch up past `target`, looking again while committed events are still held
        back by the read horizon; stop early if the projection fails."""
        recheck = MIN_RECHECK
        while await worker.catch_up(batch_size, on_batch) and worker.position < target:
            recheck = await self._appends.recheck_later(recheck)

    def _follow(self, name: str) -> None:
        self._followers[name] = asyncio.create_task(
            self._run(self._workers[name]), name=f"project-{name}"
        )

    async def _run(self, worker: ProjectionWorker) -> None:
        recheck = MIN_RECHECK
        errors = 0
        while True:
            before = worker.position
            try:
                async with worker.lock:
                    healthy = await worker.catch_up(self._batch_size)
                errors = 0
            except Exception:
                # not an event's fault (those end FAILED): mostly the database out of reach;
                # the failed transaction kept nothing, so try again later
                log.exception("projection %s could not catch up; retrying", worker.projection.name)
                await asyncio.sleep(self._retry.delay(min(errors, 6)))
                errors += 1
                continue
            if not healthy:
                return  # stopped on an event (FAILED): a rebuild or a restart tries again
            if worker.position > before:
                recheck = MIN_RECHECK  # the pause grows only while nothing comes through
            if self._appends.latest > worker.position:
                # announced, not yet readable: an older transaction is still open below it
                recheck = await self._appends.recheck_later(recheck)
            else:
                recheck = MIN_RECHECK
                await self._appends.wait_beyond(worker.position, self._safety_interval)
