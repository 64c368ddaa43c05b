"""MAX_SUBSCRIPTIONS_PER_CONNECTION: one subscription over the limit on a websocket is
refused with SUBSCRIPTION_LIMIT, the others run on, and a completed one frees its slot
(with real tokens: tests/identity/test_api_websockets.py)."""

from __future__ import annotations

import asyncio
import json
import operator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from schema.app import create_app
from schema.settings import Settings
from tests.conftest import sqlite_url
from tests.schema.in_loop import (
    COMPLETE,
    SUBSCRIBE,
    WAIT_SECONDS,
    connected,
    serving,
    until_subscribers,
)

UPDATES = "subscription { projectionUpdates { name position } }"
LIMIT = 2


@pytest.fixture(params=list(SUBSCRIBE))
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def start(connection: ClientConnection, protocol: str, operation_id: str) -> None:
    message = {"id": operation_id, "type": SUBSCRIBE[protocol], "payload": {"query": UPDATES}}
    await connection.send(json.dumps(message))


async def refusal(connection: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The first error of the operation's first message (past the others' updates and
    graphql-ws's keep-alives)."""
    async with asyncio.timeout(WAIT_SECONDS):
        message = json.loads(await connection.recv())
        while message.get("id") != operation_id:
            message = json.loads(await connection.recv())
    error: dict[str, Any] = message["payload"]["errors"][0]
    return error


async def test_a_subscription_over_the_limit_is_refused_with_its_code(
    tmp_path: Path, protocol: str
) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path), max_subscriptions_per_connection=LIMIT)
    async with (
        serving(create_app(settings)) as served,
        connected(served.url, protocol) as connection,
    ):
        hub = served.services.hub
        for number in range(LIMIT):
            await start(connection, protocol, str(number))
        await until_subscribers(hub, partial(operator.eq, LIMIT), "the first subscriptions")
        await start(connection, protocol, "over")
        refused = await refusal(connection, "over")

        await connection.send(json.dumps({"id": "0", "type": COMPLETE[protocol]}))
        await until_subscribers(hub, partial(operator.eq, LIMIT - 1), "one to complete")
        await start(connection, protocol, "again")
        await until_subscribers(hub, partial(operator.eq, LIMIT), "its slot to be taken")

    assert refused["extensions"] == {"code": "SUBSCRIPTION_LIMIT"}
    assert refused["message"].startswith(f"at most {LIMIT} subscriptions")
