"""The projection runner: keeps every projection caught up with the log, woken by appends.

Each projection has its own follower task. It waits for the projection's lease (on
PostgreSQL, its advisory lock: one process in the cluster runs it, the others stand by;
see leases.py), then applies batches until the log is exhausted, and sleeps until an
append is announced (see append_watch.py) or another process changes the checkpoint (a
rebuild started elsewhere). A slow timer is only a safety net, for a NOTIFY lost with
its sender's crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any

from eventstore import EventStore
from eventstore.database import cancel_and_wait
from readmodels.errors import InvalidQuery
from readmodels.projection import Projection
from readmodels.results import ProjectionState, ProjectionStatus
from readmodels.running.append_watch import MIN_RECHECK, AppendWatch
from readmodels.running.applier import (
    OtherVersionLive,
    Overtaken,
    ProjectionApplier,
    RetryPolicy,
)
from readmodels.running.bulk_replay import WINDOW, bulk_replay
from readmodels.running.leases import AdvisoryLockLeases, Lease, Leases, SoleProcessLeases
from readmodels.running.log_reads import LogReads
from readmodels.running.observation import ProjectionObserver
from readmodels.running.rebuild import (
    ProgressCallback,
    ProgressCounter,
    RebuildInProgress,
    RebuildProgress,
)
from readmodels.running.shadow_build import ShadowBuildFailed, shadow_build_of
from readmodels.status import checkpoints
from readmodels.status.status_hub import StatusHub

log = logging.getLogger(__name__)

# while a rebuild runs in another process, how often its progress is counted in events
REMOTE_PROGRESS_SECONDS = 0.5


class ProjectionRunner:
    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        hub: StatusHub,
        appends: AppendWatch,
        *,
        leases: Leases | None = None,
        batch_size: int = 500,
        rebuild_batch_size: int = 2000,
        rebuild_window: int = WINDOW,
        safety_interval: float = 5.0,
        retry: RetryPolicy | None = None,
        observer: ProjectionObserver | None = None,
    ) -> None:
        """`appends` must be started (by the caller, who may share it) before `start`."""
        self._store = store
        self._hub = hub
        self._appends = appends
        self._leases = leases or (
            AdvisoryLockLeases(store.engine.url) if store.is_postgres else SoleProcessLeases()
        )
        self._batch_size = batch_size
        self._rebuild_batch_size = rebuild_batch_size
        self._rebuild_window = rebuild_window
        self._safety_interval = safety_interval
        self._retry = retry or RetryPolicy()
        reads = LogReads(store, generation=lambda: self._appends.generation)
        self._workers = {
            projection.name: ProjectionApplier(
                store,
                projection,
                hub,
                self._retry,
                head=lambda: self._appends.latest,
                observer=observer,
                reads=reads,
            )
            for projection in projections
        }
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._held: set[str] = set()
        # set when the loaded checkpoint may be out of date: another process changed it
        # (e.g. reset it for a rebuild), or ran the projection before this one took over
        self._reload = {name: asyncio.Event() for name in self._workers}
        hub.observe(self._on_status)

    @property
    def names(self) -> list[str]:
        return list(self._workers)

    @property
    def held(self) -> frozenset[str]:
        """The projections this process runs now (the others wait for their lease)."""
        return frozenset(self._held)

    def status(self, name: str) -> ProjectionStatus:
        return self._worker(name).status

    def code_version(self, name: str) -> int:
        return self._worker(name).projection.version

    async def start(self) -> None:
        """Load every checkpoint, then follow the log in the background until `close`."""
        for worker in self._workers.values():
            await worker.load()
        for name, worker in self._workers.items():
            self._followers[name] = asyncio.create_task(self._run(worker), name=f"project-{name}")

    async def close(self) -> None:
        await cancel_and_wait(self._followers.values())
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
        now, or until it fails; for callers that do not `start` the runner (no lease is
        taken: the checkpoints keep a concurrent runner from applying anything twice)."""
        target = until if until is not None else (await self._store.log_extent())[1]
        for worker in self._workers.values():
            async with worker.lock:
                await worker.load()
                await self._catch_up_to(worker, target, self._batch_size)

    async def rebuild(
        self, name: str, on_progress: ProgressCallback | None = None
    ) -> RebuildProgress:
        """Empty the projection's tables and replay every event committed before this call
        (and any after) into them. A running follower of the projection pauses meanwhile;
        a stopped (FAILED) one starts again.

        When another process runs the projection (it holds the lease), that process does
        the replay: this one resets the checkpoint and follows the progress, which needs the
        hub fed by the checkpoint feed (ReadSide.start)."""
        worker = self._worker(name)
        await self._appends.refresh()
        lease = None if name in self._held else await self._leases.try_acquire(name)
        if name not in self._held and lease is None:
            return await self._rebuild_elsewhere(worker, on_progress)
        try:
            async with worker.lock:
                total, last = await self._store.log_extent()
                await worker.load()
                worker.check_version()  # its code would write tables it does not know
                await self._no_build_beside(worker)
                await worker.reset()
                counter = ProgressCounter(name, total, on_progress)
                await self._replay(worker, last, counter.batch_done)
        finally:
            if lease is not None:
                await lease.release()
        self._reload[name].set()  # a follower stopped on a failure starts again
        return counter.progress

    async def shadow_rebuild(
        self, name: str, on_progress: ProgressCallback | None = None
    ) -> RebuildProgress:
        """Build the projection's code version from the whole log into tables beside the
        live ones, then switch them in (shadow_build.py); meanwhile the live tables keep
        serving, and the follower keeps them up to date. One process at a time builds a
        projection (its build lease); another asking waits. Raises ShadowBuildFailed on
        an event the build cannot apply, with the live version untouched, and
        OtherVersionLive when a newer version than the code's is live."""
        worker = self._worker(name)
        async with worker.lock:
            await worker.load()
        if worker.status.version > worker.projection.version:
            raise OtherVersionLive(
                f"{name}: version {worker.status.version} is live, "
                f"this code is version {worker.projection.version}"
            )
        return await self._build_and_switch(worker, on_progress, fresh=True)

    async def _build_and_switch(
        self, worker: ProjectionApplier, on_progress: ProgressCallback | None, *, fresh: bool
    ) -> RebuildProgress:
        """The shadow build of the code's version under its build lease: from scratch when
        `fresh` (or the last one FAILED), else resuming one a crash interrupted, or nothing
        when another process switched this version in while this one waited for the lease."""
        name = worker.projection.name
        build = shadow_build_of(self._store, worker.projection, self._rebuild_window)
        lease = await self._leases.acquire(build.checkpoint)
        try:
            total, last = await self._store.log_extent()
            counter = ProgressCounter(name, total, on_progress)
            async with worker.lock:
                await worker.load()
            if not fresh and worker.status.version >= worker.projection.version:
                return counter.progress
            if worker.status.state is ProjectionState.REBUILDING:
                # its reset would make the live position 0, and the switch would replace
                # the tables mid-rebuild
                raise RebuildInProgress(
                    f"{name} is being rebuilt in place (at position {worker.position}); "
                    "let it finish first (cqrs-orders status)"
                )
            # a build that stopped on an event starts over: this process may run fixed code
            await build.prepare(fresh=fresh or await build.failed())
            try:
                await build.catch_up(last, counter.batch_done)
                # once more to the head, so the switch has little left to apply under lock
                await build.catch_up((await self._store.log_extent())[1], counter.batch_done)
                await build.switch()
            except ShadowBuildFailed:
                raise  # its checkpoint row, FAILED, tells status why
            except BaseException:
                if fresh:
                    await build.abandon()
                raise
        finally:
            await lease.release()
        self._reload[name].set()  # the live checkpoint moved: the follower reads it again
        return counter.progress

    async def _no_build_beside(self, worker: ProjectionApplier) -> None:
        """Before an in-place rebuild: refuse while a build beside the live tables runs
        (its switch would replace the tables being rebuilt), and drop what an interrupted
        build of this version left (a second copy of the tables, on a disk short of room)."""
        name = worker.projection.name
        async with self._store.engine.connect() as conn:
            row = (await checkpoints.load_builds(conn, [name])).get(name)
        if row is None:
            return
        build = shadow_build_of(self._store, worker.projection, self._rebuild_window)
        lease = await self._leases.try_acquire(row.name)
        if lease is None or (
            row.name != build.checkpoint and row.state != ProjectionState.FAILED.value
        ):
            if lease is not None:
                await lease.release()
            raise RebuildInProgress(
                f"{name}: version {row.version} is being built beside the live tables "
                f"(at position {row.position}); let it finish first (cqrs-orders status)"
            )
        try:
            if row.name == build.checkpoint:
                await build.abandon()
        finally:
            await lease.release()

    async def _rebuild_elsewhere(
        self, worker: ProjectionApplier, on_progress: ProgressCallback | None
    ) -> RebuildProgress:
        name = worker.projection.name
        total, last = await self._store.log_extent()
        counter = ProgressCounter(name, total, on_progress)
        async with self._hub.subscribe([name]) as updates:
            async with worker.lock:
                await worker.reset()
            status = worker.status
            counted_at = time.monotonic()
            while status.state is not ProjectionState.FAILED and not (
                status.state is ProjectionState.RUNNING and status.position >= last
            ):
                try:
                    async with asyncio.timeout(self._safety_interval):
                        status = await anext(updates)
                except TimeoutError:  # a notification lost: the table knows
                    async with worker.lock:
                        await worker.load()
                    status = worker.status
                if time.monotonic() - counted_at >= REMOTE_PROGRESS_SECONDS:
                    counted_at = time.monotonic()
                    done = await _events_through(self._store, status.position)
                    counter.batch_done(max(0, done - counter.progress.done))
        async with worker.lock:
            await worker.load()
        counter.batch_done(
            max(0, await _events_through(self._store, worker.position) - counter.progress.done)
        )
        return counter.progress

    async def _replay(
        self,
        worker: ProjectionApplier,
        target: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Bring a REBUILDING projection past `target`: in bulk windows while the log
        holds many events, then by batches to its head, where the checkpoint settles
        (and PostgreSQL creates the deferred indexes again)."""
        name = worker.projection.name
        try:
            row = await bulk_replay(
                self._store,
                worker.projection,
                name,
                until=target,
                on_batch=on_batch,
                window=self._rebuild_window,
            )
        except Overtaken:
            row = None  # another rebuild reset it: the batches below follow that one
        finally:
            await worker.load()  # the windows committed moved the checkpoint
        if row is None or row.state != ProjectionState.FAILED.value:
            # the batches' progress counts only events: the settle is no news
            rest = None if on_batch is None else _counting_events(on_batch)
            await self._catch_up_to(worker, target, self._rebuild_batch_size, rest)

    def _worker(self, name: str) -> ProjectionApplier:
        if name not in self._workers:
            known = ", ".join(self._workers)
            raise InvalidQuery(f"no projection {name!r} (known: {known})", "projection")
        return self._workers[name]

    async def _catch_up_to(
        self,
        worker: ProjectionApplier,
        target: int,
        batch_size: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Catch up past `target`, looking again while committed events are still held
        back by the read horizon; stop early if the projection fails."""
        recheck = MIN_RECHECK
        while True:
            announced = self._appends.generation  # before reading: no commit goes unseen
            if not await worker.catch_up(batch_size, on_batch) or worker.position >= target:
                return
            recheck = await self._appends.recheck_later(recheck, since=announced)

    async def _run(self, worker: ProjectionApplier) -> None:
        """Run the projection whenever this process holds its lease, for ever, as long as
        the live tables are its code's version: a newer code builds its version first
        (without the live lease, which an older process may hold and keep following); an
        older one stands by for good."""
        name = worker.projection.name
        while True:
            try:
                async with worker.lock:
                    await worker.load()
                live, code = worker.status.version, worker.projection.version
                if code < live:
                    log.warning(
                        "projection %s: version %s is live, this code is %s; standing by",
                        name,
                        live,
                        code,
                    )
                    await asyncio.Event().wait()  # a newer deploy replaced this process
                if code > live:
                    log.info(
                        "projection %s: building version %s beside version %s", name, code, live
                    )
                    await self._build_and_switch(worker, None, fresh=False)
                    continue
            except RebuildInProgress as busy:
                log.warning("projection %s: %s; its version %s waits", name, busy, code)
                reload = self._reload[name]
                reload.clear()  # set again by the next change of its checkpoint
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._safety_interval):
                        await reload.wait()
                continue
            except ShadowBuildFailed:
                log.exception(
                    "projection %s: version %s failed to build; standing by",
                    name,
                    worker.projection.version,
                )
                await asyncio.Event().wait()  # its checkpoint row, FAILED, tells status why
            except Exception:
                log.exception("projection %s: could not build or read its version; retrying", name)
                await asyncio.sleep(self._retry.delay(0))
                continue
            await self._follow(worker)

    async def _follow(self, worker: ProjectionApplier) -> None:
        """Hold the lease and follow the log until the lease is lost or the live version
        changes."""
        name = worker.projection.name
        lease = await self._leases.acquire(name)
        self._held.add(name)
        self._reload[name].set()
        log.info("running projection %s", name)
        try:
            await _until_lost(lease, self._keep_up(worker))
            log.warning("projection %s: lost its lease; standing by", name)
        except OtherVersionLive:
            log.warning("projection %s: another version is live now; leaving it", name)
        except Exception:
            # the database went away under the follower: let another process have it
            log.exception("projection %s stopped; standing by", name)
            await asyncio.sleep(self._retry.delay(0))
        finally:
            self._held.discard(name)
            await lease.release()

    async def _keep_up(self, worker: ProjectionApplier) -> None:
        reload = self._reload[worker.projection.name]
        recheck = MIN_RECHECK
        errors = 0
        while True:
            before = worker.position
            announced = self._appends.generation  # before reading: no commit goes unseen
            try:
                async with worker.lock:
                    if reload.is_set():
                        reload.clear()
                        await worker.load()
                        worker.check_version()
                    if worker.status.state is ProjectionState.REBUILDING:
                        # reset by a rebuild in another process, which follows the progress
                        await self._replay(worker, self._appends.latest)
                        replayed = worker.status
                        healthy = replayed.state is not ProjectionState.FAILED
                    else:
                        healthy = await worker.catch_up(self._batch_size)
                errors = 0
            except OtherVersionLive:
                raise
            except Exception:
                # not an event's fault (those end FAILED): mostly the database out of reach;
                # the failed transaction kept nothing, so try again later
                log.exception("projection %s could not catch up; retrying", worker.projection.name)
                await asyncio.sleep(self._retry.delay(min(errors, 6)))
                errors += 1
                continue
            if not healthy:
                # stopped on an event (FAILED): a rebuild here or elsewhere, or a restart,
                # tries again
                await reload.wait()
                continue
            if worker.position > before:
                recheck = MIN_RECHECK  # the pause grows only while nothing comes through
            if self._appends.latest > worker.position:
                # announced, not yet readable: an older transaction is still open below it
                recheck = await self._appends.recheck_later(recheck, since=announced)
            else:
                recheck = MIN_RECHECK
                await _first_of(
                    self._appends.wait_beyond(worker.position, self._safety_interval),
                    reload.wait(),
                )

    def _on_status(self, status: ProjectionStatus) -> None:
        self._appends.projection_committed()
        # this process's own changes carry the revision its worker holds or is committing
        worker = self._workers.get(status.name)
        if worker is not None and status.revision > worker.revision:
            self._reload[status.name].set()


async def _until_lost(lease: Lease, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until the lease is lost (then cancel it) or `work` ends."""
    await _first_of(work, lease.lost.wait())


async def _first_of(*work: Coroutine[Any, Any, Any]) -> None:
    """Wait until one of the coroutines ends, cancel the others; raise what the first raised."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in work]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(task for task in tasks if not task.done())
    for task in done:
        task.result()


def _counting_events(on_batch: Callable[[int], None]) -> Callable[[int], None]:
    def counted(events: int) -> None:
        if events:
            on_batch(events)

    return counted


async def _events_through(store: EventStore, position: int) -> int:
    """How many events the log holds up to `position`: a rebuild's progress in events."""
    return (await store.log_extent(through=position))[0]
