"""GET /metrics of a real server on both backends: the counters move by exactly what was
done, the gauges follow subscriptions and websockets, and the lag comes back to 0."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import uuid4

import httpx
import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.observability.scrapes import Scrape, increase, scrape, scrape_until
from tests.schema.service import (
    ADD_ORDER_ITEM,
    CANCEL_ORDER,
    CREATE_ORDER,
    ORDER,
    REQUEST_TIMEOUT,
    SUBPROTOCOLS,
    Server,
    create_order,
    create_order_input,
    http_api,
    server_fixture,
    unique,
    websocket_session,
)

server = server_fixture()

PROJECTIONS = ("order_views", "customer_summaries")
UPDATES = "subscription Watch { projectionUpdates { name position } }"
# how long an order's message may take before the subscription counts as not up yet
MESSAGE_WAIT = 1.0


async def test_counters_move_by_exactly_the_commands_and_operations_done(server: Server) -> None:
    before = await scrape(server.base_url)
    async with http_api(server) as api:
        created = [await create_order(api, unique("metrics")) for _ in range(3)]
        repeated = create_order_input(unique("metrics"), commandId=str(uuid4()))
        first = (await api.data(CREATE_ORDER, input=repeated))["createOrder"]
        again = (await api.data(CREATE_ORDER, input=repeated))["createOrder"]
        missing = await api.error(CANCEL_ORDER, input={"orderId": str(uuid4()), "reason": "x"})
        stale = await api.error(
            ADD_ORDER_ITEM,
            input={
                "orderId": created[0]["orderId"],
                "productId": "p-3",
                "quantity": 1,
                "unitPrice": "1.50",
                "expectedVersion": 99,
            },
        )
        for order in created[:2]:
            assert (await api.data(ORDER, id=order["orderId"]))["order"] is not None
    after = await scrape(server.base_url)

    assert (again["duplicate"], missing["extensions"]["code"], stale["extensions"]["code"]) == (
        True,
        "NOT_FOUND",
        "CONFLICT",
    )

    def counted(name: str, **labels: str) -> float:
        return increase(after, before, name, **labels)

    assert counted("cqrs_commands_total", command="CreateOrder", outcome="ok") == 4
    assert counted("cqrs_commands_total", command="CreateOrder", outcome="duplicate") == 1
    assert counted("cqrs_commands_total", command="CancelOrder", outcome="not_found") == 1
    assert counted("cqrs_commands_total", command="AddOrderItem", outcome="conflict") == 1
    assert counted("cqrs_command_duration_seconds_count", command="CreateOrder") == 5
    assert counted("cqrs_command_duration_seconds_count", command="CancelOrder") == 1
    assert counted("graphql_operations_total", operation_type="mutation", outcome="ok") == 5
    assert (
        counted("graphql_operations_total", operation_type="mutation", outcome="client_error") == 2
    )
    assert counted("graphql_operations_total", operation_type="query", outcome="ok") == 2
    assert counted("graphql_operation_duration_seconds_count", operation_type="mutation") == 7
    assert counted("graphql_operation_duration_seconds_count", operation_type="query") == 2
    for outcome in ("server_error",):
        assert counted("graphql_operations_total", operation_type="mutation", outcome=outcome) == 0
    # every event appended was applied by each projection (their `order` fields waited)
    appended = sum(order["version"] for order in created) + first["version"]
    for projection in PROJECTIONS:
        assert counted("cqrs_projection_events_applied_total", projection=projection) == appended
    assert after.families["cqrs_commands"] == "counter"
    assert after.families["cqrs_command_duration_seconds"] == "histogram"


@pytest.mark.parametrize("subprotocol", SUBPROTOCOLS)
async def test_subscriptions_and_websockets_are_counted_while_open(
    server: Server, subprotocol: str
) -> None:
    before = await scrape(server.base_url)
    started = asyncio.Event()

    async def watch() -> None:
        async with websocket_session(server, subprotocol) as session:
            async for _ in session.subscribe(GraphQLRequest(UPDATES)):
                started.set()

    watching = asyncio.create_task(watch())
    try:
        # an order makes a message, once the subscription is up: until then, another
        async with http_api(server) as api, asyncio.timeout(REQUEST_TIMEOUT):
            while not started.is_set():
                await create_order(api, unique("gauges"))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(started.wait(), MESSAGE_WAIT)
        during = await scrape(server.base_url)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    subscription = {"subscription": "projectionUpdates"}
    connection = {"protocol": subprotocol}
    assert during.value("graphql_subscriptions_active", **subscription) == 1
    assert during.value("graphql_websocket_connections_active", **connection) == 1

    def closed(latest: Scrape) -> bool:
        return (
            latest.value("graphql_subscriptions_active", **subscription) == 0
            and latest.value("graphql_websocket_connections_active", **connection) == 0
        )

    after = await scrape_until(server.base_url, closed, "the subscription and socket end")
    labels = {"operation_type": "subscription", "outcome": "ok"}
    assert increase(after, before, "graphql_operations_total", **labels) == 1


async def test_the_lag_returns_to_zero_and_the_positions_reach_the_head(server: Server) -> None:
    async with http_api(server) as api:
        orders = [await create_order(api, unique("lag")) for _ in range(2)]
    last = max(order["position"] for order in orders)

    def caught_up(latest: Scrape) -> bool:
        head = latest.value("cqrs_event_log_head_position")
        return head >= last and all(
            latest.value("cqrs_projection_position", projection=name) == head
            and latest.value("cqrs_projection_lag_seconds", projection=name) == 0
            for name in PROJECTIONS
        )

    latest = await scrape_until(server.base_url, caught_up, "every projection at the head")
    for name in PROJECTIONS:
        assert latest.value("cqrs_projection_state", projection=name, state="RUNNING") == 1
        assert latest.value("cqrs_projection_state", projection=name, state="FAILED") == 0
    assert sorted(
        labels["projection"] for labels in latest.labels_of("cqrs_projection_lag_seconds")
    ) == sorted(PROJECTIONS)


async def test_no_label_carries_an_id_or_a_clients_text(server: Server) -> None:
    customer = unique("labels")
    async with http_api(server) as api:
        created = await create_order(api, customer)
        await api.result("query Named_by_the_client { projections { name } }")
    async with websocket_session(server, SUBPROTOCOLS[0]) as session:
        with pytest.raises(TransportQueryError):
            async for _ in session.subscribe(GraphQLRequest("subscription { clientInvented }")):
                pass
    latest = await scrape(server.base_url)
    values = {value for _, labels in latest.samples for _, value in labels}
    forbidden = {
        customer,
        created["orderId"],
        created["commandId"],
        "Named_by_the_client",
        "clientInvented",
    }
    assert not values & forbidden
    allowed_keys: dict[str, Any] = {}
    for name, labels in latest.samples:
        for key, _ in labels:
            allowed_keys.setdefault(key, set()).add(name)
    assert set(allowed_keys) <= {
        "command",
        "outcome",
        "projection",
        "state",
        "operation_type",
        "subscription",
        "protocol",
        "le",
        # the process collectors' own
        "implementation",
        "major",
        "minor",
        "patchlevel",
        "version",
        "generation",
    }


async def test_metrics_off_serves_no_metrics(tmp_path: Any) -> None:
    from tests.conftest import sqlite_url
    from tests.schema.service import serving

    with serving("sqlite", sqlite_url(tmp_path), tmp_path, env={"METRICS": "off"}) as off:
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            metrics = await client.get(f"{off.base_url}/metrics")
            ready = await client.get(f"{off.base_url}/health/ready")
    assert metrics.status_code == 404
    assert ready.status_code == 200
