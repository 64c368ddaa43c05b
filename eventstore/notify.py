"""Wake-ups for readers of the log: in-process at once, across processes by NOTIFY on
APPENDED_CHANNEL (heard there with eventstore.database.PgListener)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from sqlalchemy.engine import URL

from eventstore.database import driver_dsn
from eventstore.database.tasks import BackgroundTask

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


class PgNotifyPublisher(BackgroundTask):
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
