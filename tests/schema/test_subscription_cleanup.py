"""No listener leak: a thousand websocket subscribe/disconnect cycles leave no hub subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import operator
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from eventstore.database import cancel_and_wait
from readmodels.results import ProjectionState, ProjectionStatus
from readmodels.status.status_hub import StatusHub
from schema.app import create_app
from schema.services import Services
from schema.settings import Settings
from tests.conftest import sqlite_url

CYCLES = 1000
CONCURRENT = 40
# Bound on each wait below; every wait ends as soon as its condition holds.
WAIT_SECONDS = 10.0
# graphql-transport-ws and the legacy graphql-ws name their messages differently.
SUBSCRIBE = {"graphql-transport-ws": "subscribe", "graphql-ws": "start"}
COMPLETE = {"graphql-transport-ws": "complete", "graphql-ws": "stop"}
UPDATES = "subscription { projectionUpdates { name position } }"
# a consistency wait that cannot end by itself within the test: it listens on the hub too
WAITING = (
    "subscription { consistency(position: 9000000000000000000, timeoutMs: 60000) { reached } }"
)


@dataclass
class Served:
    url: str
    app: Any

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """The app under uvicorn in this test's own event loop, on a pre-bound loopback socket."""
    app = create_app(Settings(database_url=sqlite_url(tmp_path)))
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield Served(url=f"ws://127.0.0.1:{listener.getsockname()[1]}/graphql", app=app)
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def until_subscribers(hub: StatusHub, wanted: Callable[[int], bool], what: str) -> None:
    """Yield to the event loop (the server runs in it too) until the hub's subscriber count
    is as wanted: the hub announces no change, so this checks after every turn of the loop."""
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            # nothing to await: the hub has no event for it (bounded by the timeout above)
            while not wanted(hub.subscriber_count):  # noqa: ASYNC110
                await asyncio.sleep(0)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}: {hub.subscriber_count} subscribers")


@contextlib.asynccontextmanager
async def connected(url: str, protocol: str) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(
        url,
        subprotocols=[websockets.Subprotocol(protocol)],
        open_timeout=WAIT_SECONDS,
        # read whatever the server pushes, so that a close handshake is never stuck behind it
        max_queue=None,
    ) as connection:
        assert connection.subprotocol == protocol
        await connection.send(json.dumps({"type": "connection_init"}))
        async with asyncio.timeout(WAIT_SECONDS):
            ack = json.loads(await connection.recv())
        assert ack == {"type": "connection_ack"}
        yield connection


async def subscribe(connection: ClientConnection, protocol: str, query: str) -> None:
    message = {"id": "1", "type": SUBSCRIBE[protocol], "payload": {"query": query}}
    await connection.send(json.dumps(message))


async def test_a_thousand_subscribe_disconnect_cycles_leave_no_subscriber(
    served: Served,
) -> None:
    protocols = list(SUBSCRIBE)
    endings = ["complete", "abrupt", "close"]
    # The first connection can only be served once the lifespan has started the services.
    async with connected(served.url, protocols[0]):
        hub = served.services.hub
        assert hub.subscriber_count == 0

    for cycle in range(CYCLES):
        protocol = protocols[cycle % 2]
        ending = endings[cycle % 3]
        query = WAITING if cycle % 5 == 0 else UPDATES
        what = f"cycle {cycle} ({protocol}, {ending}, {query.split()[2]})"
        async with connected(served.url, protocol) as connection:
            await subscribe(connection, protocol, query)
            # the server has read the subscription once its listener is on the hub
            await until_subscribers(hub, partial(operator.eq, 1), f"{what} to subscribe")
            if ending == "complete":
                await connection.send(json.dumps({"id": "1", "type": COMPLETE[protocol]}))
                await until_subscribers(hub, partial(operator.eq, 0), f"{what} to complete")
            elif ending == "abrupt":
                connection.transport.abort()  # no close frame: the TCP connection just ends
            # "close": leaving the block closes the websocket (close frame), still subscribed
        await until_subscribers(hub, partial(operator.eq, 0), f"{what} to leave the hub")


async def test_connections_dropped_while_updates_are_pushed_leave_no_subscriber(
    served: Served,
) -> None:
    """Disconnects racing with sends: updates are pushed at every turn of the loop while half
    the connections drop abruptly and the other half close with a close frame."""
    protocols = list(SUBSCRIBE)
    async with contextlib.AsyncExitStack() as stack:
        connections = [
            await stack.enter_async_context(connected(served.url, protocols[n % 2]))
            for n in range(CONCURRENT)
        ]
        hub = served.services.hub
        for number, connection in enumerate(connections):
            await subscribe(connection, protocols[number % 2], UPDATES)
        await until_subscribers(hub, partial(operator.eq, CONCURRENT), "all to subscribe")
        pushing = asyncio.create_task(push_updates(hub))
        for connection in connections[::2]:
            connection.transport.abort()
        # the others close with a close frame as the stack unwinds
    await cancel_and_wait([pushing])
    await until_subscribers(hub, partial(operator.eq, 0), "every subscriber to leave the hub")


async def push_updates(hub: StatusHub) -> None:
    """Publish a status at every turn of the loop, as a busy projection would, until cancelled."""
    for position in itertools.count():
        hub.publish(
            ProjectionStatus(
                name="order_views",
                position=position,
                head_position=position,
                state=ProjectionState.RUNNING,
                last_error=None,
                updated_at=None,
            )
        )
        await asyncio.sleep(0)
