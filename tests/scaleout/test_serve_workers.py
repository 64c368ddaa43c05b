"""`serve --workers 2` on PostgreSQL: both uvicorn workers serve, each projection runs once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.scaleout.database import DEFAULT_PROJECTIONS, connected, eventually, lock_requests
from tests.schema.service import Server, create_order, http_api, serving, unique

pytestmark = pytest.mark.scaleout

TIMEOUT = 50.0
ORDERS = 10
SUMMARY = """
query Summary($id: ID!, $minPosition: BigInt) {
  customerSummary(customerId: $id, minPosition: $minPosition, timeoutMs: 5000) { orderCount }
}
"""
ORDER = """
query Order($id: ID!, $minPosition: BigInt) {
  order(id: $id, minPosition: $minPosition, timeoutMs: 5000) { id }
}
"""


async def test_two_uvicorn_workers_serve_and_run_each_projection_once(
    database: str, tmp_path: Path
) -> None:
    async with asyncio.timeout(TIMEOUT), connected(database) as connection:
        with serving("postgres", database, tmp_path, arguments=["--workers", "2"]) as server:

            async def each_projection_held_once_and_awaited_by_the_other() -> bool:
                for name in DEFAULT_PROJECTIONS:
                    requests = await lock_requests(connection, name)
                    if sorted(row["granted"] for row in requests) != [False, True]:
                        return False
                return True

            await eventually(
                each_projection_held_once_and_awaited_by_the_other, 20, "one lock holder each"
            )
            # a connection per order, so that both workers' accept loops get some
            await asyncio.gather(*(_create_and_read(server) for _ in range(ORDERS)))
            assert await each_projection_held_once_and_awaited_by_the_other()
            started = [line for line in server.lines if "Started server process" in line]
            assert len(started) == 2, started


async def _create_and_read(server: Server) -> None:
    async with http_api(server) as api:
        customer = unique("workers")
        created = await create_order(api, customer)
        position = created["position"]
        order = await api.result(ORDER, id=created["orderId"], minPosition=position)
        summary = await api.result(SUMMARY, id=customer, minPosition=position)
    assert order.data["order"] == {"id": created["orderId"]}
    assert summary.data["customerSummary"] == {"orderCount": 1}
    assert not (order.extensions or {}).get("consistency")
    assert not (summary.extensions or {}).get("consistency")
