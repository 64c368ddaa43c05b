"""The app served by uvicorn inside the test's own event loop, and websocket clients for it:
the test can reach the app's services (its hub, its runner) while clients talk to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection

from readmodels.status.status_hub import StatusHub
from schema.services import Services

# Bound on each wait below; every wait ends as soon as its condition holds.
WAIT_SECONDS = 10.0
# graphql-transport-ws and the legacy graphql-ws name their messages differently.
SUBSCRIBE = {"graphql-transport-ws": "subscribe", "graphql-ws": "start"}
COMPLETE = {"graphql-transport-ws": "complete", "graphql-ws": "stop"}


@dataclass
class Served:
    url: str  # the websocket URL of /graphql
    app: Starlette

    @property
    def http_url(self) -> str:
        return self.url.replace("ws://", "http://", 1)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[Served]:
    """`app` under uvicorn in this event loop, on a pre-bound loopback socket; its services
    have started once a first request is answered."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    served = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield Served(url=f"ws://127.0.0.1:{listener.getsockname()[1]}/graphql", app=app)
    finally:
        server.should_exit = True
        await served
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


async def next_data(connection: ClientConnection) -> dict[str, Any]:
    """The next message's `payload.data` (graphql-transport-ws), within WAIT_SECONDS."""
    async with asyncio.timeout(WAIT_SECONDS):
        message = json.loads(await connection.recv())
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]
    return data
