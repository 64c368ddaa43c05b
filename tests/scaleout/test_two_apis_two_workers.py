"""Two API processes and two projection workers behave as one service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.scaleout.apis import api_processes
from tests.scaleout.clients import Load, watching
from tests.scaleout.database import DEFAULT_PROJECTIONS, applications, connected, projected
from tests.scaleout.processes import workers

pytestmark = pytest.mark.scaleout

ORDERS = 40
TIMEOUT = 50.0


async def test_commands_round_robin_reach_a_subscriber_elsewhere_and_each_read_model_once(
    database: str, tmp_path: Path
) -> None:
    async with (
        asyncio.timeout(TIMEOUT),
        workers(database, 2) as running,
        api_processes(database, tmp_path, 2) as [(server_a, api_a), (_, api_b)],
        # live once it has seen an order created through the other API
        watching(server_a, live_through=api_b) as watcher,
    ):
        load = Load([api_a, api_b], concurrency=4, count=ORDERS)
        created = await load.finish()
        await watcher.reached(load.last_position, within=10)
        await projected(database, load.last_position, within=10)
        holders = {name: [w.name for w in running if w.holds(name)] for name in DEFAULT_PROJECTIONS}

    assert len(created) == ORDERS
    assert all(len(names) == 1 for names in holders.values()), holders
    order_ids = [result["orderId"] for result in created]
    async with connected(database) as connection:
        views = await connection.fetchval(
            "SELECT count(*) FROM order_views WHERE order_id = ANY($1::uuid[])", order_ids
        )
        summaries = await connection.fetch(
            "SELECT s.order_count FROM customer_summaries s JOIN customer_orders o "
            "USING (customer_id) WHERE o.order_id = ANY($1::uuid[])",
            order_ids,
        )
        logged, applied, repeated = await applications(connection)
    assert views == ORDERS
    # every order has a customer of its own, so each summary counts exactly that order
    assert [row["order_count"] for row in summaries] == [1] * ORDERS
    assert (applied, repeated) == (logged, 0)
