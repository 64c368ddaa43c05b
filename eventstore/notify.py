"""Wake-ups for readers of the log: in-process at once, across processes by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from sqlalchemy.engine import URL

from eventstore.engine import driver_dsn
from eventstore.tasks import cancel_and_wait

log = logging.getLogger(__name__)

APPENDED_CHANNEL = "cqrs_orders_appended"


class PositionSignal:
    """Announcements of appended positions: the newest position so far, and a count of
    every announcement.

    On PostgreSQL an append can commit after a newer one (a lower position, since positions
    are transaction ids). Its commit is what lets the read horizon pass both, so it must
    wake readers too: `wait_beyond` waits for a new maximum, `wait_after` for any news.
    """

    def __init__(self) -> None:
        self._latest = 0
        self._generation = 0
        self._announced = asyncio.Event()

    @property
    def latest(self) -> int:
        return self._latest

    @property
    def generation(self) -> int:
        """How many announcements there were: a reader compares it with what it saw last."""
        return self._generation

    def publish(self, position: int) -> None:
        self._latest = max(self._latest, position)
        self._generation += 1
        # swap the event so that each announcement releases exactly the current waiters
        announced, self._announced = self._announced, asyncio.Event()
        announced.set()

    # a timeout here is not an error but an answer ("nothing newer yet"), hence the parameter
    async def wait_beyond(self, position: int, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait until a position above `position` is announced; return the newest (or the
        current one when `timeout` passes first)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._latest <= position:
                    await self._announced.wait()
        return self._latest

    async def wait_after(self, generation: int, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait until there was an announcement after the `generation`-th, of any position;
        return the current generation (unchanged when `timeout` passes first)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._generation <= generation:
                    await self._announced.wait()
        return self._generation


class _BackgroundTask:
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


class PgNotifyPublisher(_BackgroundTask):
    """Announces appends to other processes with NOTIFY, outside the append.

    A NOTIFY inside the appending transaction would take PostgreSQL's global notify lock at
    every commit and serialize all writers; publishing the newest position from one
    connection after commit costs one statement per burst instead. Every append's commit
    leads to a NOTIFY (coalesced with those of the same burst), also one that is not a new
    maximum: a late commit of an older transaction moves the read horizon. That connection
    commits without waiting for the WAL flush: a wake-up needs no durability, and a NOTIFY
    lost with a crash only leaves listeners to their safety-net timer.
    """

    def __init__(self, url: URL, signal: PositionSignal) -> None:
        self._dsn = driver_dsn(url)
        self._signal = signal
        super().__init__("pg-notify-publisher")

    async def _run(self) -> None:
        sent = self._signal.generation
        connection: asyncpg.Connection | None = None
        try:
            while True:
                generation = await self._signal.wait_after(sent)
                latest = self._signal.latest
                try:
                    if connection is None or connection.is_closed():
                        connection = await asyncpg.connect(
                            self._dsn, server_settings={"synchronous_commit": "off"}
                        )
                    await connection.execute(
                        "SELECT pg_notify($1, $2)", APPENDED_CHANNEL, str(latest)
                    )
                    sent = generation
                except (OSError, asyncpg.PostgresError) as error:
                    log.warning("NOTIFY of position %s failed (%s); retrying", latest, error)
                    await asyncio.sleep(1.0)
        finally:
            if connection is not None:
                await connection.close(timeout=1)


class PgListener(_BackgroundTask):
    """A dedicated LISTEN connection that survives being dropped.

    After every (re)connect `on_connected` runs, in the listener's own task, so consumers
    re-read whatever state was published while the connection was down instead of trusting
    the missed notifications.
    """

    def __init__(
        self,
        url: URL,
        handlers: Mapping[str, Callable[[str], None]],
        on_connected: Callable[[], Awaitable[None]] | None = None,
        reconnect_delay: float = 0.5,
    ) -> None:
        self._dsn = driver_dsn(url)
        self._handlers = dict(handlers)
        self._on_connected = on_connected
        self._reconnect_delay = reconnect_delay
        self.connected = asyncio.Event()
        super().__init__("pg-listener")

    async def start_listening(self, at_most: float) -> bool:
        """Start, and wait up to `at_most` seconds for LISTEN to be up; False if it is not
        yet (it keeps trying in the background, and `on_connected` runs once it is)."""
        self.start()
        try:
            async with asyncio.timeout(at_most):
                await self.connected.wait()
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("LISTEN connection failed (%s); retrying", error)
                await asyncio.sleep(self._reconnect_delay)
                continue
            try:
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                for channel, handler in self._handlers.items():
                    await connection.add_listener(channel, _payload_only(handler))
                self.connected.set()
                await self._caught_up()
                await lost.wait()
                log.warning("LISTEN connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("LISTEN connection broke (%s); reconnecting", error)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)
            await asyncio.sleep(self._reconnect_delay)

    async def _caught_up(self) -> None:
        if self._on_connected is None:
            return
        try:
            await self._on_connected()
        except Exception:
            # if the database went away, the connection is lost too: the reconnect
            # runs on_connected again
            log.exception("re-reading after LISTEN (re)connected failed")


def _payload_only(handler: Callable[[str], None]) -> Callable[[object, int, str, str], None]:
    def receive(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        handler(payload)

    return receive
