"""No listener leak: a thousand websocket subscribe/disconnect cycles leave no hub subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import operator
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from eventstore.database import cancel_and_wait
from readmodels.results import ProjectionState, ProjectionStatus
from readmodels.status.status_hub import StatusHub
from schema.app import create_app
from schema.settings import Settings
from tests.conftest import sqlite_url
from tests.schema.in_loop import (
    COMPLETE,
    SUBSCRIBE,
    Served,
    connected,
    serving,
    subscribe,
    until_subscribers,
)

CYCLES = 1000
CONCURRENT = 40
UPDATES = "subscription { projectionUpdates { name position } }"
# a consistency wait that cannot end by itself within the test: it listens on the hub too
WAITING = (
    "subscription { consistency(position: 9000000000000000000, timeoutMs: 60000) { reached } }"
)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serving(create_app(Settings(database_url=sqlite_url(tmp_path)))) as served:
        yield served


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
