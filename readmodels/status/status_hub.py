"""Fan-out of projection statuses to in-process listeners, coalescing for slow ones.

Statuses arrive by two roads: this process's runner publishes after every commit, and on
PostgreSQL the checkpoint feed (checkpoint_feed.py) publishes the commits of every process. The same
commit may come by both, and the roads may reorder: the checkpoint's revision decides.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Collection
from types import TracebackType

from readmodels.results import ProjectionStatus


class StatusHub:
    def __init__(self) -> None:
        self._latest: dict[str, ProjectionStatus] = {}
        # weak: a subscription dropped without being closed cannot leak
        self._subscriptions: weakref.WeakSet[StatusStream] = weakref.WeakSet()
        self._observers: list[Callable[[ProjectionStatus], None]] = []

    def publish(self, status: ProjectionStatus) -> None:
        """Hand `status` to every subscriber, unless a status as new or newer came first."""
        known = self._latest.get(status.name)
        if known is not None and status.revision and status.revision <= known.revision:
            return
        self._latest[status.name] = status
        for observer in self._observers:
            observer(status)
        for subscription in list(self._subscriptions):
            subscription.offer(status)

    def observe(self, observer: Callable[[ProjectionStatus], None]) -> None:
        """Call `observer` with every status published from now on, as it is published:
        for the read side's own machinery, which must not block publishing (clients
        subscribe)."""
        self._observers.append(observer)

    def latest(self, name: str) -> ProjectionStatus | None:
        """The last status published for `name`: it may lag its table, never lead it."""
        return self._latest.get(name)

    def subscribe(self, names: Collection[str] | None = None) -> StatusStream:
        """Updates of the named projections (all when None) from now on, until closed.

        Use it as `async with hub.subscribe() as updates: async for status in updates:`.
        """
        subscription = StatusStream(self, None if names is None else frozenset(names))
        self._subscriptions.add(subscription)
        return subscription

    def _remove(self, subscription: StatusStream) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)


class StatusStream:
    """An async iterator of statuses. A consumer slower than the updates gets the newest
    status of each projection, never a backlog: it holds at most one per projection."""

    def __init__(self, hub: StatusHub, names: frozenset[str] | None) -> None:
        self._hub = hub
        self._names = names
        self._pending: dict[str, ProjectionStatus] = {}
        self._ready = asyncio.Event()
        self._closed = False

    def offer(self, status: ProjectionStatus) -> None:
        if self._closed or (self._names is not None and status.name not in self._names):
            return
        self._pending[status.name] = status
        self._ready.set()

    def close(self) -> None:
        """Stop receiving; a consumer waiting in `anext` ends its iteration."""
        self._closed = True
        self._pending.clear()
        self._hub._remove(self)
        self._ready.set()

    def __aiter__(self) -> StatusStream:
        return self

    async def __anext__(self) -> ProjectionStatus:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        name = next(iter(self._pending))
        return self._pending.pop(name)

    async def __aenter__(self) -> StatusStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
