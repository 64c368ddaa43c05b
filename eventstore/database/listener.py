"""LISTEN on PostgreSQL channels from a connection of its own that comes back when dropped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from sqlalchemy.engine import URL

from eventstore.database.engine import driver_dsn
from eventstore.database.tasks import BackgroundTask

log = logging.getLogger(__name__)


class PgListener(BackgroundTask):
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
