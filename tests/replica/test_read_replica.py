"""READ_DATABASE_URL: queries read a streaming replica, and read-your-writes still holds.

The replica here replays every commit a second late, far more than the projections need on
the primary, so a read that trusted the primary's checkpoints would find nothing.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from eventstore import create_engine
from migrations import upgrade
from schema.app import create_app
from schema.settings import Settings
from tests.postgres import primary_and_replica

APPLY_DELAY_MS = 1000

CREATE = """mutation {
  createOrder(input: {
    customerId: "ada"
    items: [{ productId: "mug-classic", quantity: 2, unitPrice: "9.99" }]
    shippingAddress: { name: "Ada Lovelace", line1: "12 St James's Sq",
                       city: "London", postalCode: "SW1Y 4JH", country: "GB" }
  }) { orderId position order { status itemCount } }
}"""
READ = """query ($id: ID!, $position: BigInt!) {
  order(id: $id, minPosition: $position, timeoutMs: 5000) { id itemCount }
  customerSummary(customerId: "ada", minPosition: $position) { orderCount }
}"""


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    """SQLAlchemy URLs of a migrated database on the primary and on its replica."""
    with primary_and_replica(APPLY_DELAY_MS) as (primary, replica):
        asyncio.run(_create_database(primary, replica))
        yield tuple(  # type: ignore[misc]
            url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/orders"
            for url in (primary, replica)
        )


async def _create_database(primary: str, replica: str) -> None:
    admin = await asyncpg.connect(primary)
    try:
        await admin.execute("CREATE DATABASE orders")
    finally:
        await admin.close()
    base = primary.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(base + "/orders")
    await upgrade(engine)
    await engine.dispose()
    # the migration reaches the replica APPLY_DELAY_MS later
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = await asyncpg.connect(replica.rsplit("/", 1)[0] + "/orders")
        except asyncpg.InvalidCatalogNameError:
            continue
        try:
            if await connection.fetchval("SELECT to_regclass('projection_checkpoints')"):
                return
        finally:
            await connection.close()
    raise TimeoutError("the replica did not replay the migration within 30 s")


@pytest.fixture
async def app(urls: tuple[str, str]) -> AsyncIterator[Starlette]:
    primary, replica = urls
    app = create_app(Settings(database_url=primary, read_database_url=replica))
    async with app.router.lifespan_context(app):
        yield app


async def graphql(app: Starlette, query: str, **variables: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def test_a_read_after_a_write_waits_for_the_replica_to_replay_it(app: Starlette) -> None:
    started = time.monotonic()
    created = (await graphql(app, CREATE))["data"]["createOrder"]
    fresh = await graphql(app, READ, id=created["orderId"], position=created["position"])
    waited = time.monotonic() - started

    assert created["order"] == {"status": "PENDING", "itemCount": 2}
    assert fresh["data"]["order"] == {"id": created["orderId"], "itemCount": 2}
    assert fresh["data"]["customerSummary"]["orderCount"] >= 1
    assert "extensions" not in fresh or "consistency" not in fresh["extensions"]
    # the replica cannot have shown the order sooner: so the answer waited for it
    assert waited >= APPLY_DELAY_MS / 1000 * 0.9


async def test_a_read_without_min_position_answers_from_the_lagging_replica(
    app: Starlette, urls: tuple[str, str]
) -> None:
    created = (await graphql(app, CREATE.replace("order { status itemCount }", "")))["data"]
    order_id = created["createOrder"]["orderId"]
    primary = await asyncpg.connect(urls[0].replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + 10
        query = "SELECT 1 FROM order_views WHERE order_id = $1"
        while not await primary.fetchval(query, uuid.UUID(order_id)):  # projected there
            assert time.monotonic() < deadline, "the projection did not apply the order"
    finally:
        await primary.close()

    unwaited = await graphql(app, "query ($id: ID!) { order(id: $id) { id } }", id=order_id)

    # the primary's read table has it; the replica replays it a second later
    assert unwaited["data"]["order"] is None
