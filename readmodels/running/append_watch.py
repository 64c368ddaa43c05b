"""What wakes the projection runner: appends announced in this process, or in others.

Appends of this process are announced by the store's PositionSignal, appends of other
processes by NOTIFY, heard through LISTEN on PostgreSQL. On PostgreSQL an announced
append may not be readable yet, because an older transaction is still open below it.
When that transaction is an append, its commit is announced too (every commit is, not
only new maxima) and wakes `recheck_later` at once, and so is a projection's commit
(heard on the hub, from this process or through the checkpoint feed from others); any
other transaction (a long one somewhere in the cluster) ends unannounced, so
`recheck_later` also looks again after a pause that starts at a millisecond and doubles
up to MAX_RECHECK while nothing is announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from eventstore import EventStore, PositionSignal
from eventstore.database import PgListener, cancel_and_wait
from eventstore.notify import APPENDED_CHANNEL

log = logging.getLogger(__name__)

MIN_RECHECK = 0.001
MAX_RECHECK = 0.25
LISTEN_WAIT = 5.0


class AppendWatch:
    """The newest appended position heard of, from any process."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._announced = PositionSignal()
        self._forwarding: asyncio.Task[None] | None = None
        self._listener: PgListener | None = None

    @property
    def latest(self) -> int:
        return self._announced.latest

    @property
    def generation(self) -> int:
        """A count of announcements: read it before reading the log, and pass it to
        `recheck_later`, so that no commit announced in between is waited for."""
        return self._announced.generation

    async def start(self) -> None:
        self._forwarding = asyncio.create_task(self._forward_appends(), name="forward-appends")
        if self._store.is_postgres:
            self._listener = PgListener(
                self._store.engine.url,
                {APPENDED_CHANNEL: self._on_notify},
                on_connected=self.refresh,
            )
            # once LISTEN is up no append of another process goes unheard; if it cannot
            # connect yet, it keeps trying and catches up on (re)connecting
            if not await self._listener.start_listening(LISTEN_WAIT):
                log.warning("LISTEN is not connected yet; following this process's appends")
        await self.refresh()

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        if self._forwarding is not None:
            await cancel_and_wait([self._forwarding])

    async def refresh(self) -> None:
        """Learn the head from the log itself: at start, and after LISTEN (re)connects,
        since notifications sent while it was down are lost."""
        self._announced.publish(await self._store.head_position())

    async def wait_beyond(self, position: int, at_most: float) -> None:
        """Until an append beyond `position` is announced, or `at_most` seconds."""
        await self._announced.wait_beyond(position, at_most)

    async def recheck_later(self, pause: float, since: int | None = None) -> float:
        """Wait `pause`, or less: until a commit is announced (after the `since`-th
        announcement, default now), which may bring appended events below the read
        horizon. Return the next pause: doubled if nothing was announced, else the first
        again, since whatever held the horizon back after that commit is new."""
        seen = self._announced.generation if since is None else since
        if await self._announced.wait_after(seen, timeout=pause) > seen:
            return MIN_RECHECK
        return min(pause * 2, MAX_RECHECK)

    def projection_committed(self) -> None:
        """Wake rechecks: a projection's transaction (of this process or another) that
        held the read horizon back has ended. Each projection's own writes hold back
        the others' reads, so this is the commonest unannounced end of all."""
        self._announced.publish(self._announced.latest)

    async def _forward_appends(self) -> None:
        signal = self._store.signal
        seen = signal.generation
        self._announced.publish(signal.latest)
        while True:
            seen = await signal.wait_after(seen)
            self._announced.publish(signal.latest)

    def _on_notify(self, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self._announced.publish(int(payload))
