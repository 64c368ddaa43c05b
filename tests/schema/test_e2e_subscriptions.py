"""Both subscriptions over both websocket subprotocols, with a real gql client and server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.schema.service import (
    SUBPROTOCOLS,
    Server,
    create_order,
    head_position,
    http_api,
    server_fixture,
    unique,
    websocket_session,
)

server = server_fixture()

PROJECTION_UPDATES = """
subscription Updates($projections: [String!]) {
  projectionUpdates(projections: $projections) {
    name position headPosition lag state lastError updatedAt
  }
}
"""
CONSISTENCY = """
subscription Consistency($position: BigInt!, $projections: [String!], $timeoutMs: Int) {
  consistency(position: $position, projections: $projections, timeoutMs: $timeoutMs) {
    position reached timedOut projections { name position headPosition lag state }
  }
}
"""
# Bounds on waiting for a message that should come at once.
MESSAGE_TIMEOUT = 10.0
ATTEMPTS = 3


@pytest.fixture(params=SUBPROTOCOLS)
def subprotocol(request: pytest.FixtureRequest) -> str:
    protocol: str = request.param
    return protocol


async def collect(session: Any, document: str, **variables: Any) -> list[dict[str, Any]]:
    """Every message of a subscription that completes by itself."""
    request = GraphQLRequest(document, variable_values=variables)
    async with asyncio.timeout(MESSAGE_TIMEOUT):
        return [message async for message in session.subscribe(request)]


async def test_projection_updates_push_the_position_of_a_mutation_made_elsewhere(
    server: Server, subprotocol: str
) -> None:
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def listen(session: Any) -> None:
        request = GraphQLRequest(PROJECTION_UPDATES, variable_values={"projections": None})
        async for message in session.subscribe(request):
            await received.put(message["projectionUpdates"])

    async with websocket_session(server, subprotocol) as session, http_api(server) as api:
        listener = asyncio.create_task(listen(session))
        try:
            # The subscription is live once the server has read it, which no message confirms:
            # a command made before that is not announced to it, so a few commands are allowed.
            updates: list[dict[str, Any]] = []
            for _ in range(ATTEMPTS):
                created = await create_order(api, unique("pushed"))
                position = created["position"]
                try:
                    async with asyncio.timeout(MESSAGE_TIMEOUT / ATTEMPTS):
                        while {u["name"] for u in updates if u["position"] >= position} != {
                            "order_views",
                            "customer_summaries",
                        }:
                            updates.append(await received.get())
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail(f"no update reached position {position}; got {updates}")
        finally:
            listener.cancel()
            with pytest.raises(asyncio.CancelledError):
                await listener

    latest = [u for u in updates if u["position"] >= position]
    for update in latest:
        assert isinstance(update["position"], int)
        assert update["headPosition"] >= update["position"]
        assert update["lag"] == update["headPosition"] - update["position"]
        assert update["state"] == "RUNNING"
        assert update["lastError"] is None
        assert update["updatedAt"].endswith("+00:00")


async def test_projection_updates_of_named_projections_carry_only_those(
    server: Server, subprotocol: str
) -> None:
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def listen(session: Any) -> None:
        request = GraphQLRequest(
            PROJECTION_UPDATES, variable_values={"projections": ["customer_summaries"]}
        )
        async for message in session.subscribe(request):
            await received.put(message["projectionUpdates"])

    async with websocket_session(server, subprotocol) as session, http_api(server) as api:
        listener = asyncio.create_task(listen(session))
        try:
            names: set[str] = set()
            for _ in range(ATTEMPTS):
                position = (await create_order(api, unique("named")))["position"]
                try:
                    async with asyncio.timeout(MESSAGE_TIMEOUT / ATTEMPTS):
                        while True:
                            update = await received.get()
                            names.add(update["name"])
                            if update["position"] >= position:
                                break
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail(f"no update reached position {position}")
        finally:
            listener.cancel()
            with pytest.raises(asyncio.CancelledError):
                await listener

    assert names == {"customer_summaries"}


async def test_consistency_streams_until_reached_then_completes(
    server: Server, subprotocol: str
) -> None:
    async with http_api(server) as api:
        position = (await create_order(api, unique("consistent")))["position"]
    async with websocket_session(server, subprotocol) as session:
        messages = [
            message["consistency"]
            for message in await collect(session, CONSISTENCY, position=position)
        ]

    assert messages, "the subscription completed without a message"
    *before, last = messages
    assert (last["reached"], last["timedOut"]) == (True, False)
    assert all(not m["reached"] and not m["timedOut"] for m in before)
    assert all(m["position"] == position for m in messages)
    assert [p["name"] for p in last["projections"]] == ["order_views", "customer_summaries"]
    assert all(p["position"] >= position for p in last["projections"])


async def test_consistency_times_out_for_a_position_never_reached(
    server: Server, subprotocol: str
) -> None:
    async with http_api(server) as api:
        unreachable = await head_position(api) + 2**62  # a 64-bit number JSON carries exactly
    async with websocket_session(server, subprotocol) as session:
        messages = [
            message["consistency"]
            for message in await collect(
                session,
                CONSISTENCY,
                position=unreachable,
                projections=["order_views"],
                timeoutMs=100,
            )
        ]

    *before, last = messages
    assert (last["reached"], last["timedOut"]) == (False, True)
    assert all(not m["timedOut"] for m in before)
    assert last["position"] == unreachable
    assert [p["name"] for p in last["projections"]] == ["order_views"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"position": -1}, "position"),
        ({"position": 0, "projections": ["no_such_projection"]}, "projections"),
        ({"position": 0, "timeoutMs": -5}, "timeoutMs"),
    ],
)
async def test_a_subscription_refused_for_its_input_says_which_field(
    server: Server, subprotocol: str, variables: dict[str, Any], field: str
) -> None:
    async with websocket_session(server, subprotocol) as session:
        with pytest.raises(TransportQueryError) as raised:
            await collect(session, CONSISTENCY, **variables)

    assert raised.value.errors
    extensions = raised.value.errors[0]["extensions"]
    assert extensions == {"code": "BAD_USER_INPUT", "field": field}
