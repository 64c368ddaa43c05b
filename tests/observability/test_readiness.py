"""/health/live and /health/ready of a real server, and the projection gauges after a poison
event, on both backends (each test on an empty database of its own server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from eventstore import EventStore, NewEvent, create_engine
from tests.conftest import BACKENDS, empty_database, sqlite_url
from tests.observability.scrapes import Scrape, scrape_until
from tests.schema.service import REQUEST_TIMEOUT, Server, create_order, http_api, serving, unique

PROJECTIONS = ("order_views", "customer_summaries")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, emptied again afterwards: a poison event must not outlive its test
    (every later server on the run's PostgreSQL database would fail on it)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(emptied(url))
    yield url
    asyncio.run(emptied(url))


async def emptied(url: str) -> None:
    engine = create_engine(url)
    try:
        await empty_database(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[Server]:
    backend = "sqlite" if database.startswith("sqlite") else "postgres"
    with serving(backend, database, tmp_path) as running:
        yield running


async def get(server: Server, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        return await client.get(f"{server.base_url}{path}")


async def append_poison(database_url: str) -> None:
    """An OrderCreated without its fields: every projection that reads it fails on it."""
    engine = create_engine(database_url)
    store = EventStore(engine)
    store.start()  # on PostgreSQL, the server hears of the append at once
    try:
        await store.append(
            f"Order-{uuid4()}",
            "Order",
            [NewEvent(event_type="OrderCreated", schema_version=1, data={"poison": True})],
            expected_version=0,
            command_id=uuid4(),
        )
    finally:
        await store.close()
        await engine.dispose()


async def test_live_and_ready_while_caught_up(server: Server) -> None:
    async with http_api(server) as api:
        await create_order(api, unique("ready"))  # its order field waits for the projections
    live, ready = await get(server, "/health/live"), await get(server, "/health/ready")

    assert (live.status_code, live.json()) == (200, {"status": "live"})
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["projections"] == {
        name: {"state": "RUNNING", "lag_seconds": 0.0} for name in PROJECTIONS
    }
    assert ready.headers["x-request-id"]


async def test_a_poison_event_shows_failed_in_the_gauges_and_makes_the_server_unready(
    server: Server, database: str
) -> None:
    await append_poison(database)

    def failed(latest: Scrape) -> bool:
        return all(
            latest.value("cqrs_projection_state", projection=name, state="FAILED") == 1
            for name in PROJECTIONS
        )

    latest = await scrape_until(server.base_url, failed, "both projections FAILED")
    ready = await get(server, "/health/ready")
    live = await get(server, "/health/live")

    for name in PROJECTIONS:
        assert latest.value("cqrs_projection_state", projection=name, state="RUNNING") == 0
        assert latest.value("cqrs_projection_lag_seconds", projection=name) > 0
        assert latest.value("cqrs_projection_position", projection=name) < latest.value(
            "cqrs_event_log_head_position"
        )
    assert ready.status_code == 503
    assert ready.json()["status"] == "unready"
    assert sorted(ready.json()["reasons"]) == sorted(f"{name} is FAILED" for name in PROJECTIONS)
    assert live.status_code == 200
    log = "".join(server.lines)
    assert "stopped: event at position" in log


def test_a_projection_lagging_past_the_limit_makes_the_server_unready(
    postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(emptied(postgres_url))
    try:
        asyncio.run(_lag_past_the_limit(postgres_url, tmp_path))
    finally:
        asyncio.run(emptied(postgres_url))


async def _lag_past_the_limit(postgres_url: str, tmp_path: Path) -> None:
    settings = {"PROJECTIONS": "off", "READY_MAX_LAG_SECONDS": "0.2"}
    with serving("postgres", postgres_url, tmp_path, env=settings) as api_only:
        assert (await get(api_only, "/health/ready")).status_code == 200
        async with http_api(api_only) as api:
            await api.result(
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { position } }",
                i={
                    "customerId": unique("lagging"),
                    "items": [{"productId": "p", "quantity": 1, "unitPrice": "1.00"}],
                    "shippingAddress": {
                        "name": "A",
                        "line1": "B",
                        "city": "C",
                        "postalCode": "D",
                        "country": "GB",
                    },
                },
            )

        def lagging(latest: Scrape) -> bool:
            return all(
                latest.value("cqrs_projection_lag_seconds", projection=name) >= 0.2
                for name in PROJECTIONS
            )

        await scrape_until(api_only.base_url, lagging, "both projections 0.2 s behind")
        ready = await get(api_only, "/health/ready")

    assert ready.status_code == 503
    assert sorted(ready.json()["reasons"]) == sorted(f"{name} lags" for name in PROJECTIONS)
    assert all(p["state"] == "RUNNING" for p in ready.json()["projections"].values())
