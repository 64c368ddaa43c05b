"""Each GraphQL operation reads through one database connection, returned when it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from schema.app import create_app
from schema.settings import Settings
from tests.conftest import sqlite_url


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Starlette]:
    # no projection runner: only the operation's own reads use the pool
    app = create_app(Settings(database_url=sqlite_url(tmp_path), projections=False))
    async with app.router.lifespan_context(app):
        yield app


async def test_one_operation_reads_through_one_connection_and_gives_it_back(
    app: Starlette,
) -> None:
    pool = app.state.services.database.engine.sync_engine.pool
    checkouts: list[object] = []
    event.listen(pool, "checkout", lambda dbapi, record, proxy: checkouts.append(dbapi))
    query = """{
      a: customerOrders(customerId: "ada") { total }
      b: searchOrders(query: "") { total }
      c: customerSummary(customerId: "ada") { orderCount }
      d: projections { name }
    }"""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 200
    assert "errors" not in response.json()
    assert len(checkouts) == 1, "four reads, one connection"
    assert pool.checkedout() == 0, "the connection went back to the pool with the operation"
