"""A rebuild's replay: the log folded a large window at a time into emptied tables.

Each window is one transaction: the projection writes its rows once (`Projection.replay`:
COPY on PostgreSQL, a thousand rows a statement on SQLite's writer) and the checkpoint
moves past the window, so a crash resumes from the last window committed.

Three windows are in hand at once: the next one is read while one is folded and the one
before is written. The fold is this process's CPU, the write the database's, so each
waits for the other only when it is the slower (on SQLite the writer's thread runs
beside the fold, the sqlite3 module letting go of the GIL while SQLite works).

Memory is bounded by the window, not the log: three windows of events (WINDOW = 20,000
events each), the rows of two and the fold's state of the orders one touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence

from eventstore import EventStore, LoggedEvent
from readmodels.projection import Projection, Replay, WindowWrite
from readmodels.results import ProjectionState
from readmodels.running.applier import Overtaken, database_unreachable, drop_read_ahead
from readmodels.status import checkpoints

log = logging.getLogger(__name__)

WINDOW = 20_000


@dataclasses.dataclass(frozen=True)
class _Written:
    """A window whose rows are being written, with its checkpoint's move past it."""

    events: Sequence[LoggedEvent]
    commit: asyncio.Future[checkpoints.Checkpoint]


async def bulk_replay(
    store: EventStore,
    projection: Projection,
    checkpoint: str,
    *,
    until: int,
    on_batch: Callable[[int], None] | None = None,
    window: int = WINDOW,
) -> checkpoints.Checkpoint:
    """Replay the log from checkpoint row `checkpoint`'s position through at least
    `until` (or as far as the log is readable) into `projection`'s tables, which must
    hold nothing past that position. Returns the checkpoint row as left: still
    REBUILDING (the caller catches up and settles), or FAILED, naming the event that
    could not be applied (nothing after it is applied). Raises Overtaken when the
    checkpoint moved under it, and what the database raises when out of reach."""
    async with store.write_transaction() as conn:
        row = (await checkpoints.load(conn, [checkpoint]))[checkpoint]
    if row.position >= until:
        return row
    replay = projection.replay()
    written: _Written | None = None
    reading = asyncio.ensure_future(store.read_log(row.position, window))
    try:
        while True:
            events = await reading
            more = len(events) == window and events[-1].position < until
            if more:
                reading = asyncio.ensure_future(store.read_log(events[-1].position, window))
                await asyncio.sleep(0)  # the read sends its query before the fold takes the CPU
            write = await _fold(store, replay, projection, events)
            if written is not None:
                # Should its write fail, its events are applied one at a time, and those
                # end where its fold did, which the fold above went on from.
                row = await _committed(store, projection, checkpoint, row, written, on_batch)
                written = None
                if row.state == ProjectionState.FAILED.value:
                    return row
            if write is None:
                row = await _one_at_a_time(store, projection, checkpoint, row, events)
                if row.state == ProjectionState.FAILED.value:
                    return row
                if on_batch is not None:
                    on_batch(len(events))
                replay = projection.replay()  # its fold of this window stopped half way
            elif events:
                commit = _commit_window(store, checkpoint, row.position, events, write)
                written = _Written(events, asyncio.ensure_future(commit))
            if not more:
                break
        if written is not None:
            row = await _committed(store, projection, checkpoint, row, written, on_batch)
            written = None
        return row
    finally:
        drop_read_ahead(reading)
        if written is not None:
            # what raised left a window being written: its transaction ends either way
            await asyncio.wait([written.commit])
            drop_read_ahead(written.commit)


async def _fold(
    store: EventStore, replay: Replay, projection: Projection, events: Sequence[LoggedEvent]
) -> WindowWrite | None:
    """The window's write; None when the fold failed on one of its events."""
    handled = [event for event in events if event.event_type in projection.handles]
    try:
        return await replay.fold(store.engine, handled)
    except Exception as error:
        if database_unreachable(error):
            raise
        log.warning(
            "%s: the fold of the window after %s failed (%r); applying its events one at a time",
            projection.name,
            events[0].position - 1 if events else None,
            error,
        )
        return None


async def _commit_window(
    store: EventStore,
    checkpoint: str,
    at: int,
    events: Sequence[LoggedEvent],
    write: WindowWrite,
) -> checkpoints.Checkpoint:
    async with store.write_transaction() as conn:
        await write(conn)
        row = await checkpoints.advance(conn, checkpoint, at, events[-1].position, False)
        if row is None:
            raise Overtaken(checkpoint)
    return row


async def _committed(
    store: EventStore,
    projection: Projection,
    checkpoint: str,
    row: checkpoints.Checkpoint,
    written: _Written,
    on_batch: Callable[[int], None] | None,
) -> checkpoints.Checkpoint:
    """The checkpoint once the window being written is committed, or, if its write failed,
    once its events are applied one at a time (FAILED at one that cannot be); `on_batch`
    is told of the window unless it FAILED."""
    try:
        row = await written.commit
    except Overtaken:
        raise
    except Exception as error:
        if database_unreachable(error):
            raise
        log.warning(
            "%s: window after %s failed (%r); applying its events one at a time",
            checkpoint,
            row.position,
            error,
        )
        row = await _one_at_a_time(store, projection, checkpoint, row, written.events)
    if on_batch is not None and row.state != ProjectionState.FAILED.value:
        on_batch(len(written.events))
    return row


async def _one_at_a_time(
    store: EventStore,
    projection: Projection,
    checkpoint: str,
    row: checkpoints.Checkpoint,
    events: Sequence[LoggedEvent],
) -> checkpoints.Checkpoint:
    """A window of a failed replay again, each event committed on its own with the
    incremental apply, up to the event that fails: it is named in the FAILED row."""
    for event in events:
        try:
            row = await _commit_event(store, projection, checkpoint, row.position, event)
        except Overtaken:
            raise
        except Exception as error:
            if database_unreachable(error):
                raise
            message = (
                f"event at position {event.position} ({event.event_type} "
                f"v{event.schema_version}, stream {event.stream_id} version {event.version}) "
                f"failed: {type(error).__name__}: {error}"
            )
            log.error("%s stopped: %s", checkpoint, message)
            async with store.write_transaction() as conn:
                failed = await checkpoints.fail(conn, checkpoint, row.position, message)
            if failed is None:
                raise Overtaken(checkpoint) from error
            return failed
    return row


async def _commit_event(
    store: EventStore, projection: Projection, checkpoint: str, at: int, event: LoggedEvent
) -> checkpoints.Checkpoint:
    async with store.write_transaction() as conn:
        if event.event_type in projection.handles:
            await projection.apply(conn, [event])
        row = await checkpoints.advance(conn, checkpoint, at, event.position, False)
        if row is None:
            raise Overtaken(checkpoint)
    return row
