"""Clients of several API processes: round-robin commands, and a projectionUpdates watcher."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import Any

from gql import GraphQLRequest

from eventstore.database import cancel_and_wait
from tests.scaleout.database import DEFAULT_PROJECTIONS
from tests.schema.service import Api, Server, create_order, unique, websocket_session

PROJECTION_UPDATES = """
subscription Updates($projections: [String!]) {
  projectionUpdates(projections: $projections) { name position state }
}
"""
# the subscription is live once the server has read it, which no message confirms
LIVE_ATTEMPTS = 5
LIVE_TIMEOUT = 2.0


class Watcher:
    """A projectionUpdates subscriber: the newest position it has received per projection."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.messages = 0
        self._changed = asyncio.Condition()

    async def received(self, update: dict[str, Any]) -> None:
        async with self._changed:
            self.messages += 1
            name, position = update["name"], update["position"]
            self.positions[name] = max(position, self.positions.get(name, -1))
            self._changed.notify_all()

    async def reached(self, position: int, within: float) -> None:
        """Until every default projection's update at `position` or beyond has arrived."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(
                    lambda: all(self.positions.get(n, -1) >= position for n in DEFAULT_PROJECTIONS)
                )
        except TimeoutError:
            raise AssertionError(
                f"no update at {position} within {within} s: {self.positions}"
            ) from None


@contextlib.asynccontextmanager
async def watching(server: Server, live_through: Api) -> AsyncIterator[Watcher]:
    """A subscriber on `server`, known to be live: it has received the update of an order
    created through `live_through` (which may be another process)."""
    watcher = Watcher()
    async with websocket_session(server, "graphql-transport-ws") as session:

        async def listen() -> None:
            request = GraphQLRequest(
                PROJECTION_UPDATES, variable_values={"projections": list(DEFAULT_PROJECTIONS)}
            )
            async for message in session.subscribe(request):
                await watcher.received(message["projectionUpdates"])

        listener = asyncio.create_task(listen(), name="watcher")
        try:
            for attempt in range(1, LIVE_ATTEMPTS + 1):
                position = (await create_order(live_through, unique("live")))["position"]
                try:
                    await watcher.reached(position, LIVE_TIMEOUT)
                    break
                except AssertionError:
                    if attempt == LIVE_ATTEMPTS:
                        raise
            yield watcher
        finally:
            await cancel_and_wait([listener])


class Load:
    """createOrder commands, round robin over the APIs, `concurrency` at a time, until
    `count` are done or `stop` is called; `created` holds every result in completion order."""

    def __init__(self, apis: Sequence[Api], concurrency: int, count: int | None = None) -> None:
        self.created: list[dict[str, Any]] = []
        self._apis = itertools.cycle(apis)
        self._remaining = count
        self._stopped = asyncio.Event()
        self._progress = asyncio.Condition()
        self._tasks = [asyncio.create_task(self._send()) for _ in range(concurrency)]

    async def _send(self) -> None:
        try:
            while not self._stopped.is_set() and self._remaining != 0:
                if self._remaining is not None:
                    self._remaining -= 1
                result = await create_order(next(self._apis), unique("load"))
                async with self._progress:
                    self.created.append(result)
                    self._progress.notify_all()
        finally:
            # a sender that failed wakes the waiters, who then raise its error in `finish`
            async with self._progress:
                self._progress.notify_all()

    async def at_least(self, count: int, within: float) -> None:
        """Until `count` commands have been answered."""
        async with asyncio.timeout(within), self._progress:
            await self._progress.wait_for(
                lambda: len(self.created) >= count or any(t.done() for t in self._tasks)
            )
        if len(self.created) < count:
            await self.stop()
            raise AssertionError(f"the load ended after {len(self.created)} commands")

    async def finish(self) -> list[dict[str, Any]]:
        """Wait until every sender is done; raise what a sender raised."""
        await asyncio.gather(*self._tasks)
        return self.created

    async def stop(self) -> list[dict[str, Any]]:
        """Stop sending, and finish the commands in flight."""
        self._stopped.set()
        return await self.finish()

    @property
    def last_position(self) -> int:
        return max(int(result["position"]) for result in self.created)
