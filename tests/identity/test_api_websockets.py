"""Websocket callers on both protocols and both backends: the token of connection_init or
of the upgrade request, refusals, expiry during a live subscription, and the caps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.identity.served import Served, served_fixture, token, websocket_as
from tests.schema.service import SUBPROTOCOLS, unique

MAX_SUBSCRIPTIONS = 2
MAX_CONNECTIONS = 2
served = served_fixture(
    {
        "MAX_SUBSCRIPTIONS_PER_CONNECTION": str(MAX_SUBSCRIPTIONS),
        "MAX_CONNECTIONS_PER_PRINCIPAL": str(MAX_CONNECTIONS),
    }
)
# bounds on waiting for what should come at once (or, for expiry, within seconds)
MESSAGE_TIMEOUT = 10.0
UPDATES = "subscription { projectionUpdates { name position } }"
# answered at once: every projection has reached position 0
REACHED = "subscription { consistency(position: 0) { reached } }"
START = {"graphql-transport-ws": "subscribe", "graphql-ws": "start"}
STREAMED = {"graphql-transport-ws": "next", "graphql-ws": "data"}


@pytest.fixture(params=SUBPROTOCOLS)
def subprotocol(request: pytest.FixtureRequest) -> str:
    protocol: str = request.param
    return protocol


@asynccontextmanager
async def socket(
    served: Served, subprotocol: str, headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(
        served.server.websocket_url, subprotocols=[subprotocol], additional_headers=headers
    ) as connection:  # type: ignore[arg-type]
        yield connection


async def receive(connection: ClientConnection) -> dict[str, Any]:
    """The next message that is not a keep-alive."""
    async with asyncio.timeout(MESSAGE_TIMEOUT):
        while True:
            message: dict[str, Any] = json.loads(await connection.recv())
            if message["type"] not in ("ka", "ping", "pong"):
                return message


async def initialise(connection: ClientConnection, payload: dict[str, Any] | None) -> None:
    await connection.send(json.dumps({"type": "connection_init", "payload": payload or {}}))


async def subscribe(
    connection: ClientConnection, subprotocol: str, operation_id: str, query: str = UPDATES
) -> None:
    message = {"id": operation_id, "type": START[subprotocol], "payload": {"query": query}}
    await connection.send(json.dumps(message))


async def closed_with(connection: ClientConnection) -> int | None:
    """The code the server closed the connection with (messages before it are skipped)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(MESSAGE_TIMEOUT):
            while True:
                await connection.recv()
    return None if closed.value.rcvd is None else closed.value.rcvd.code


async def test_a_connection_without_a_token_is_refused(served: Served, subprotocol: str) -> None:
    async with socket(served, subprotocol) as connection:
        await initialise(connection, None)
        if subprotocol == "graphql-ws":
            assert (await receive(connection))["type"] == "connection_error"
            await closed_with(connection)
        else:
            assert await closed_with(connection) == 4403


async def test_a_bad_token_is_refused(served: Served, subprotocol: str) -> None:
    expired = token(unique("ada"), ttl=-timedelta(minutes=5))
    for value in (f"Bearer {expired}", "Bearer garbage"):
        async with socket(served, subprotocol) as connection:
            await initialise(connection, {"Authorization": value})
            if subprotocol == "graphql-ws":
                assert (await receive(connection))["type"] == "connection_error"
            else:
                assert await closed_with(connection) == 4403


async def test_an_operation_before_the_connection_is_accepted_is_refused(
    served: Served, subprotocol: str
) -> None:
    async with socket(served, subprotocol) as connection:
        await subscribe(connection, subprotocol, "1")
        assert await closed_with(connection) == 4401


@pytest.mark.parametrize("key", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_the_token_of_connection_init_is_accepted(
    served: Served, subprotocol: str, key: str
) -> None:
    async with socket(served, subprotocol) as connection:
        await initialise(connection, {key: f"Bearer {token(unique('ada'))}"})
        assert (await receive(connection))["type"] == "connection_ack"
        await subscribe(connection, subprotocol, "1", REACHED)
        message = await receive(connection)
    assert message["type"] == STREAMED[subprotocol], message
    assert message["payload"]["data"] == {"consistency": {"reached": True}}


async def test_the_token_of_the_upgrade_request_is_accepted(
    served: Served, subprotocol: str
) -> None:
    headers = {"Authorization": f"Bearer {token(unique('ada'))}"}
    async with socket(served, subprotocol, headers) as connection:
        await initialise(connection, None)
        assert (await receive(connection))["type"] == "connection_ack"


async def test_a_live_subscription_is_closed_when_its_token_expires(
    served: Served, subprotocol: str
) -> None:
    short_lived = token(unique("ada"), ttl=timedelta(seconds=2))
    async with socket(served, subprotocol) as connection:
        await initialise(connection, {"Authorization": f"Bearer {short_lived}"})
        assert (await receive(connection))["type"] == "connection_ack"
        await subscribe(connection, subprotocol, "live")
        assert await closed_with(connection) == 4403


async def test_subscriptions_per_connection_are_capped(served: Served, subprotocol: str) -> None:
    async with socket(served, subprotocol) as connection:
        await initialise(connection, {"Authorization": f"Bearer {token(unique('ada'))}"})
        assert (await receive(connection))["type"] == "connection_ack"
        for n in range(MAX_SUBSCRIPTIONS):
            await subscribe(connection, subprotocol, f"s{n}")
        await subscribe(connection, subprotocol, "one-too-many")
        refused = await receive(connection)
    assert refused["id"] == "one-too-many"
    # refused as the subscription's result (then completed), with a code, as input errors are
    assert refused["type"] == {"graphql-transport-ws": "next", "graphql-ws": "data"}[subprotocol]
    assert refused["payload"]["errors"][0]["extensions"] == {"code": "SUBSCRIPTION_LIMIT"}


async def test_connections_per_principal_are_capped(served: Served, subprotocol: str) -> None:
    ada = token(unique("ada"))
    async with (
        socket(served, subprotocol) as first,
        socket(served, subprotocol) as second,
        socket(served, subprotocol) as third,
        socket(served, subprotocol) as someone_else,
    ):
        for connection in (first, second):
            await initialise(connection, {"Authorization": f"Bearer {ada}"})
            assert (await receive(connection))["type"] == "connection_ack"
        await initialise(third, {"Authorization": f"Bearer {ada}"})
        await initialise(someone_else, {"Authorization": f"Bearer {token(unique('bob'))}"})

        assert (await receive(someone_else))["type"] == "connection_ack"
        if subprotocol == "graphql-ws":
            assert (await receive(third))["type"] == "connection_error"
        else:
            assert await closed_with(third) == 4403


async def test_gql_clients_send_their_token_in_connection_init(
    served: Served, subprotocol: str
) -> None:
    init = {"Authorization": f"Bearer {token(unique('ada'))}"}
    async with websocket_as(served.server, subprotocol, init_payload=init) as session:
        request = GraphQLRequest(REACHED)
        async with asyncio.timeout(MESSAGE_TIMEOUT):
            messages = [message async for message in session.subscribe(request)]

    assert messages == [{"consistency": {"reached": True}}]


async def test_gql_clients_without_a_token_are_refused(served: Served, subprotocol: str) -> None:
    with pytest.raises(TransportError):
        async with websocket_as(served.server, subprotocol) as session:
            await session.execute(GraphQLRequest("query { projections { name } }"))
