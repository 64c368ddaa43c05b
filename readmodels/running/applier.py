"""One projection at work: batches from its checkpoint on, each committed with its checkpoint."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from eventstore import EventStore, LoggedEvent
from readmodels import held_rows, sql
from readmodels.projection import Projection
from readmodels.results import ProjectionState, ProjectionStatus
from readmodels.running import deferred_indexes
from readmodels.running.batch_statement import batch_statement
from readmodels.running.log_reads import LogReads
from readmodels.running.observation import ProjectionObserver
from readmodels.status import checkpoints
from readmodels.status.status_hub import StatusHub
from readmodels.status.statuses import status_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often an event is tried, and the pause before each new try (doubling)."""

    attempts: int = 3
    first_delay: float = 0.05

    def delay(self, attempt: int) -> float:
        return float(self.first_delay * 2**attempt)


class Overtaken(Exception):
    """The checkpoint moved under a batch (a rebuild, another process): roll it back."""


class OtherVersionLive(Exception):
    """The live tables are not this code's version (a switch made another one live, or
    this code's is not built yet): applying a batch would write tables it does not know."""


class ProjectionApplier:
    """Applies one projection's batches; the caller holds `lock` around each call."""

    def __init__(
        self,
        store: EventStore,
        projection: Projection,
        hub: StatusHub,
        retry: RetryPolicy,
        head: Callable[[], int],
        observer: ProjectionObserver | None = None,
        reads: LogReads | None = None,
    ) -> None:
        """`reads`: shared with the runner's other appliers (by default, its own)."""
        self.projection = projection
        self.lock = asyncio.Lock()
        self._store = store
        self._hub = hub
        self._retry = retry
        self._head = head
        self._observer = observer
        self._reads = reads or LogReads(store, generation=lambda: 0)
        self._row: checkpoints.Checkpoint | None = None
        # the rows this worker last wrote (PostgreSQL): a batch reads them without a round trip
        self._rows = held_rows.RowCache()
        # the revision a transaction of this worker is committing (0: none)
        self._committing = 0

    def check_version(self) -> None:
        """Raise OtherVersionLive unless the loaded checkpoint's version is this code's."""
        live = int(self._loaded.version)
        if live != self.projection.version:
            raise OtherVersionLive(
                f"{self.projection.name}: version {live} is live, "
                f"this code is version {self.projection.version}"
            )

    @property
    def status(self) -> ProjectionStatus:
        return status_of(self._loaded, self._head())

    @property
    def position(self) -> int:
        return int(self._loaded.position)

    @property
    def revision(self) -> int:
        """The revision of the checkpoint as last loaded or changed here, or as being
        committed here (0: not loaded). The checkpoint feed can hear this worker's commit
        before the worker has the answer to its COMMIT: that status is no news."""
        held = 0 if self._row is None else int(self._row.revision)
        return max(held, self._committing)

    @property
    def _loaded(self) -> checkpoints.Checkpoint:
        if self._row is None:
            raise RuntimeError(f"projection {self.projection.name} is not loaded")
        return self._row

    async def load(self) -> None:
        """Read the checkpoint (creating it at 0 the first time) and announce it."""
        async with self._store.write_transaction() as conn:
            await checkpoints.ensure(conn, [self.projection.name])
            rows = await checkpoints.load(conn, [self.projection.name])
        self._changed(rows[self.projection.name])

    async def catch_up(
        self, batch_size: int, on_batch: Callable[[int], None] | None = None
    ) -> bool:
        """Apply batches until the log is exhausted (up to its safe horizon); False if the
        projection failed on an event. The next batch is read while one is applied."""
        reading = self._reads.read(self.position, batch_size)
        try:
            while True:
                events = await reading
                full = len(events) == batch_size
                if full:
                    reading = self._reads.read(events[-1].position, batch_size)
                if events and not await self._apply(events, caught_up=not full):
                    return False
                if not events and self._loaded.state == ProjectionState.REBUILDING:
                    await self._commit(checkpoints.settle, self.position)
                if on_batch is not None:
                    on_batch(len(events))
                if not full:
                    return True
                if events and self.position != events[-1].position:  # overtaken: read again
                    drop_read_ahead(reading)
                    reading = self._reads.read(self.position, batch_size)
        finally:
            drop_read_ahead(reading)

    async def reset(self) -> None:
        """Empty the projection's tables and put its checkpoint at 0, REBUILDING."""
        async with self._store.write_transaction() as conn:
            await deferred_indexes.defer(conn, self.projection.name, self.projection.tables)
            for table in self.projection.tables:
                # TRUNCATE is PostgreSQL's instant delete-all, and transactional there
                verb = "TRUNCATE" if conn.dialect.name == "postgresql" else "DELETE FROM"
                await conn.execute(text(f"{verb} {table.name}"))
            row = await checkpoints.reset(conn, self.projection.name)
        self._changed(row)

    async def _apply(self, events: Sequence[LoggedEvent], caught_up: bool) -> bool:
        try:
            await self._commit_batch(events, caught_up)
            return True
        except Overtaken:
            return True
        except OtherVersionLive:
            raise
        except Exception as error:
            if database_unreachable(error):
                raise
            log.warning(
                "%s: batch after %s failed (%r); applying its events one at a time",
                self.projection.name,
                self.position,
                error,
            )
        # One at a time, each retried: what precedes the culprit is committed, and the
        # culprit is named. A transient error costs only slower progress.
        for index, event in enumerate(events):
            last = index == len(events) - 1
            for attempt in range(self._retry.attempts):
                try:
                    await self._commit_batch([event], caught_up and last)
                    break
                except Overtaken:
                    return True
                except OtherVersionLive:
                    raise
                except Exception as error:
                    if database_unreachable(error):
                        raise
                    failure = error
                    if attempt + 1 < self._retry.attempts:
                        await asyncio.sleep(self._retry.delay(attempt))
            else:
                await self._fail(event, failure)
                return False
        return True

    async def _commit_batch(self, events: Sequence[LoggedEvent], caught_up: bool) -> None:
        """Apply the events and move the checkpoint past them in one transaction; raise
        Overtaken (with the checkpoint reloaded) if it moved under the batch."""
        if self._observer is None:
            await self._commit_rows(events, caught_up)
            return
        async with self._observer.batch(self.projection.name, events):
            await self._commit_rows(events, caught_up)

    async def _commit_rows(self, events: Sequence[LoggedEvent], caught_up: bool) -> None:
        at = self.position
        handled = [event for event in events if event.event_type in self.projection.handles]
        try:
            # A batch that ends a rebuild keeps the transaction: leaving REBUILDING creates
            # the deferred indexes (migration 0004's trigger), which PostgreSQL refuses in
            # a statement that is still writing their table.
            if self._store.is_postgres and self._loaded.state != ProjectionState.REBUILDING:
                row = await self._commit_statement(handled, events[-1].position, caught_up)
            else:
                row = await self._commit_transaction(handled, at, events[-1].position, caught_up)
        except Exception:
            # a rebuild elsewhere may have emptied the tables under this batch
            await self.load()
            self.check_version()
            if self.position != at:
                raise Overtaken(self.projection.name) from None
            raise
        finally:
            self._committing = 0
        self._changed(row)

    async def _commit_statement(
        self, handled: Sequence[LoggedEvent], to: int, caught_up: bool
    ) -> checkpoints.Checkpoint:
        """PostgreSQL: the projection reads its rows outside any transaction, and its
        upserts go with the checkpoint in one statement (batch_statement.py), guarded by
        the checkpoint's revision: any change since it was read, by anyone, overtakes it."""
        name, revision = self.projection.name, int(self._loaded.revision)
        async with self._store.engine.connect() as conn:
            with held_rows.hold(conn, self._rows.valid_at(revision)) as batch:
                if handled:
                    await self.projection.apply(conn, handled)
            statement, arguments = batch_statement(
                conn.dialect,
                batch.upserts,
                name,
                revision=revision,
                version=self.projection.version,
                to=to,
                caught_up=caught_up,
            )
            self._committing = revision + 1
            driver = await sql.driver_of(conn, begin=False)
            row: checkpoints.CheckpointRecord | None = await driver.fetchrow(
                statement, *arguments, record_class=checkpoints.CheckpointRecord
            )
            if row is None:
                raise Overtaken(name)  # nothing written; a transaction of its own rolls back
            # a projection that wrote by itself (not by upsert) began a transaction, and
            # its rows may differ from those kept
            wrote_by_itself = conn.in_transaction()
            await conn.commit()
        if not wrote_by_itself:
            self._rows.committed(batch.upserts, int(row.revision))
        return row

    async def _commit_transaction(
        self, handled: Sequence[LoggedEvent], at: int, to: int, caught_up: bool
    ) -> checkpoints.Checkpoint:
        async with self._store.write_transaction() as conn:
            if handled:
                await self.projection.apply(conn, handled)
            # Last, like the reset after the TRUNCATE in a rebuild: both take the
            # tables before the checkpoint row, so the two cannot deadlock.
            row = await checkpoints.advance(conn, self.projection.name, at, to, caught_up)
            if row is None:
                raise Overtaken(self.projection.name)
            # a switch may have left the position where it was, with other tables
            if row.version != self.projection.version:
                raise OtherVersionLive(self.projection.name)
            self._committing = row.revision
        return row

    async def _fail(self, event: LoggedEvent, error: Exception) -> None:
        message = (
            f"event at position {event.position} ({event.event_type} v{event.schema_version}, "
            f"stream {event.stream_id} version {event.version}) failed "
            f"{self._retry.attempts} times: {type(error).__name__}: {error}"
        )
        log.error("%s stopped: %s", self.projection.name, message)
        await self._commit(checkpoints.fail, self.position, message)

    async def _commit(
        self, change: Callable[..., Awaitable[checkpoints.Checkpoint | None]], *arguments: object
    ) -> None:
        try:
            async with self._store.write_transaction() as conn:
                row = await change(conn, self.projection.name, *arguments)
                self._committing = 0 if row is None else row.revision
        finally:
            self._committing = 0
        if row is None:
            await self.load()
        else:
            self._changed(row)

    def _changed(self, row: checkpoints.Checkpoint) -> None:
        self._row = row
        self._hub.publish(self.status)


def drop_read_ahead(task: asyncio.Future[Any]) -> None:
    """Cancel a read ahead that will not be used, and silence its error if it had one."""
    if task.done() and not task.cancelled():
        task.exception()
    task.cancel()


def database_unreachable(error: Exception) -> bool:
    """The database could not be reached: no event's fault, so no reason to fail."""
    return isinstance(error, OSError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )
