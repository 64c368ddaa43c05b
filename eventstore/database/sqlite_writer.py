"""SqliteWriter: the one thread of a process that writes a SQLite file, committing every
waiting piece of work in one transaction (group commit).

SQLite has one writer per file. Before this, every append took an asyncio lock, then six
statements, each a hop to aiosqlite's thread, and one fsync of its own. Here a thread owns
the write connection (the standard sqlite3 module) and takes every job waiting on its
queue into one transaction: one BEGIN, one fsync at COMMIT for the whole group, with
synchronous=FULL kept, so an acknowledged job survives a power loss. The group is
bounded by a count; it does not linger for company: the time one COMMIT takes is the
window in which the next group gathers, so a lone job at low load waits for nothing.

A job's own failure (a constraint, a refusal it raises) is only its answer. So that it
needs no savepoint (SAVEPOINT and RELEASE would add two statements to an append's three),
a job raises only before it writes, or from one failed statement, which SQLite itself
undoes: an append's checks come first, and its writes are statements that cannot
half-succeed. A failure of the database itself (disk full, a closed connection, an I/O
error) fails the whole group with WriterFailed and marks the writer unhealthy until a
group commits again.

Work that cannot be a job (a projection batch, written with SQLAlchemy between awaits)
takes a `turn`: the writer finishes its group, begins a transaction for the turn, and runs
the turn's statements on its own connection, one hop each, until the holder has committed
and left (leaving without a commit rolls back). Appends and batches so queue in one line
instead of spinning in SQLite's busy handler on the file lock, and a batch costs its
statements' hops, not aiosqlite's four per statement. A turn commits with
synchronous=NORMAL: its frames reach the disk with the next group's fsync (FULL syncs the
whole WAL), and a power loss before that loses only read-side rows that are rebuilt from
their checkpoint, which committed with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# enough to amortize one fsync over a burst of 32 keep-alive clients many times over,
# small enough that a group holds the file lock for a few milliseconds at most
MAX_GROUP = 256

# the same connection settings as the engine's (engine.py): WAL lets readers run beside
# the writer, FULL keeps every committed group across a power loss, and the timeout makes
# this writer wait for another process's write instead of failing
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    # a page cache of 64 MiB instead of 2: an append's checks and inserts descend three
    # indexes keyed by random ids, and every miss is a read from the file
    "PRAGMA cache_size=-65536",
)


class WriterFailed(Exception):
    """The SQLite writer could not commit: nothing of the group was written."""


@dataclass(slots=True, eq=False)
class _Job:
    work: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] = (False, None)  # (failed, result or error)


_STOP = object()


def _turn_commit(connection: sqlite3.Connection) -> None:
    connection.execute("COMMIT")


def _turn_rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:  # SQLite may have rolled back already, on an error
        connection.execute("ROLLBACK")


def _turn_begin(connection: sqlite3.Connection) -> None:
    # IMMEDIATE, as a group's: another process's writer is waited for here
    connection.execute("BEGIN IMMEDIATE")


def _turn_restart(connection: sqlite3.Connection) -> None:
    _turn_rollback(connection)
    _turn_begin(connection)


@dataclass(slots=True, eq=False)
class _Turn:
    loop: asyncio.AbstractEventLoop
    granted: asyncio.Future[None]
    # the holder's work; None: the holder has left (rolled back unless committed)
    requests: queue.SimpleQueue[_Job | None] = field(default_factory=queue.SimpleQueue)


class WriterTurn:
    """The writer's connection for one transaction: `run` each statement's work on the
    writer's thread, then `commit`; `rollback` begins afresh (a connection that SQLAlchemy
    rolls back stays usable), and leaving the turn without a commit rolls back."""

    def __init__(self, turn: _Turn) -> None:
        self._turn = turn
        self.open = True  # neither committed nor left
        self._left = False

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if not self.open:
            raise WriterFailed("the writer's turn has ended: no statement runs after it")
        result: T = await self._ask(work)
        return result

    async def commit(self) -> None:
        try:
            await self.run(_turn_commit)
        finally:
            self.open = False  # committed, or rolled back by its failure

    async def rollback(self) -> None:
        if self.open:  # else a reset after the commit, as a pool's on return: no hop
            await self._ask(_turn_restart)

    async def _ask(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        turn = self._turn
        job = _Job(work, turn.loop, turn.loop.create_future())
        turn.requests.put(job)
        return await job.future

    def leave(self) -> None:
        """End the turn, rolling back unless committed: the writer reads nothing more."""
        if not self._left:
            self._left, self.open = True, False
            self._turn.requests.put(None)


class SqliteWriter:
    """One thread writing one SQLite file; `submit` work, or take a `turn`."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._queue: queue.SimpleQueue[_Job | _Turn | object] = queue.SimpleQueue()
        self._closed = False
        # the last group's failure, None once a group commits: what /health reports
        self.failure: WriterFailed | None = None
        # how many groups committed, and how many jobs they held: the group sizes a
        # benchmark reports and a test of grouping checks
        self.groups = 0
        self.grouped_jobs = 0
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self.failure is None and self._thread.is_alive()

    async def submit(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the write connection, inside a transaction that commits with its
        group; return its result once committed, or raise its error (or WriterFailed).
        `work` raises only before it writes, or from one failed statement (module doc)."""
        self._check_running()
        loop = asyncio.get_running_loop()
        job = _Job(work, loop, loop.create_future())
        self._queue.put(job)
        result: T = await job.future
        return result

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[WriterTurn]:
        """A transaction of its own on the writer's connection, begun once the groups
        queued before it have committed; no group is open until it ends. Leaving the block
        without a commit rolls it back."""
        self._check_running()
        loop = asyncio.get_running_loop()
        turn = _Turn(loop, loop.create_future())
        holder = WriterTurn(turn)
        self._queue.put(turn)
        try:
            await turn.granted
            yield holder
        finally:
            # also when cancelled before the grant, or refused it: the writer, reaching the
            # turn, rolls back at once, or has already gone on
            holder.leave()

    def _check_running(self) -> None:
        # a job queued for a thread that has ended would wait forever
        if self._closed:
            raise WriterFailed("the SQLite writer is closed")
        if not self._thread.is_alive():
            raise WriterFailed("the SQLite writer has stopped")

    async def close(self) -> None:
        """Finish what was submitted, then close the connection and end the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    # the writer thread

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            connection = self._connect()
        except sqlite3.Error as error:
            self.failure = WriterFailed(f"the SQLite writer cannot open {self._path}: {error}")
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if isinstance(item, _Turn):
                    self._give(connection, item)
                    continue
                assert isinstance(item, _Job)
                group = [item]
                turn = stop = None
                while len(group) < MAX_GROUP:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(more, _Job):
                        group.append(more)
                    elif isinstance(more, _Turn):
                        turn = more  # after this group, in the order they came
                        break
                    else:
                        stop = more
                        break
                self._commit(connection, group)
                if turn is not None:
                    self._give(connection, turn)
                if stop is not None:
                    return
        finally:
            if connection is not None:
                connection.close()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: this thread says BEGIN and COMMIT itself
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            connection.execute(pragma)
        return connection

    def _commit(self, connection: sqlite3.Connection | None, group: list[_Job]) -> None:
        try:
            if connection is None:
                raise self.failure or WriterFailed("the SQLite writer has no connection")
            self._write(connection, group)
        except Exception as error:
            failure = (
                error
                if isinstance(error, WriterFailed)
                else WriterFailed(f"the SQLite writer could not commit: {error}")
            )
            self.failure = failure
            for job in group:
                job.outcome = (True, failure)
            if connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
        else:
            self.failure = None
            self.groups += 1
            self.grouped_jobs += len(group)
        self._answer(group)

    def _write(self, connection: sqlite3.Connection, group: list[_Job]) -> None:
        # IMMEDIATE: take the file lock now (waiting for another process's writer), not at
        # the first insert, where a reader-turned-writer could fail with "locked"
        connection.execute("BEGIN IMMEDIATE")
        for job in group:
            try:
                result = job.work(connection)
            except sqlite3.IntegrityError as error:
                job.outcome = (True, error)  # a constraint of its own: its answer alone
            except sqlite3.Error:
                raise  # the database failed, not the job: the whole group fails
            except Exception as error:
                job.outcome = (True, error)
            else:
                job.outcome = (False, result)
        connection.execute("COMMIT")

    @staticmethod
    def _answer(group: list[_Job]) -> None:
        # one wake-up of each event loop per group, not one per job
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in group:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a loop that has closed hears nothing
                loop.call_soon_threadsafe(_settle, jobs)

    def _give(self, connection: sqlite3.Connection | None, turn: _Turn) -> None:
        try:
            if connection is None:
                raise self.failure or WriterFailed("the SQLite writer has no connection")
            connection.execute("PRAGMA synchronous=NORMAL")
            _turn_begin(connection)
        except Exception as error:
            self._restore(connection)
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody holds the turn
                turn.loop.call_soon_threadsafe(_refuse, turn.granted, error)
            return
        try:
            turn.loop.call_soon_threadsafe(_grant, turn.granted)
            self._serve(connection, turn)
        except RuntimeError:
            pass  # its loop has closed: nobody holds this turn
        finally:
            with contextlib.suppress(sqlite3.Error):
                _turn_rollback(connection)
            self._restore(connection)

    @staticmethod
    def _serve(connection: sqlite3.Connection, turn: _Turn) -> None:
        # until the holder leaves, also after its commit: the next turn's holder may not
        # take the engine's one connection before this one has put it back
        ended = False
        while (request := turn.requests.get()) is not None:
            if ended and request.work is not _turn_restart:
                # committed, or SQLite rolled back on an error (disk full, I/O): what
                # followed would commit on its own, statement by statement
                request.outcome = (True, WriterFailed("the turn's transaction has ended"))
            else:
                try:
                    request.outcome = (False, request.work(connection))
                except Exception as error:
                    request.outcome = (True, error)
            SqliteWriter._answer([request])
            ended = not connection.in_transaction

    @staticmethod
    def _restore(connection: sqlite3.Connection | None) -> None:
        # a failure here shows in the next group's commit
        with contextlib.suppress(sqlite3.Error):
            if connection is not None:
                connection.execute("PRAGMA synchronous=FULL")


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():
            continue  # its caller was cancelled; the work is committed all the same
        failed, value = job.outcome
        if failed:
            job.future.set_exception(value)
        else:
            job.future.set_result(value)


def _grant(granted: asyncio.Future[None]) -> None:
    if not granted.done():
        granted.set_result(None)


def _refuse(granted: asyncio.Future[None], error: Exception) -> None:
    if not granted.done():
        granted.set_exception(error)
