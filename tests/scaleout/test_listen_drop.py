"""Every LISTEN connection terminated by the server during a write load."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest

from tests.scaleout.apis import api_processes
from tests.scaleout.clients import Load, watching
from tests.scaleout.database import APPLICATION, connected, eventually, projected
from tests.scaleout.processes import workers
from tests.schema.service import ORDER, Api, create_order, unique, websocket_session

pytestmark = pytest.mark.scaleout

TIMEOUT = 50.0
WAIT_MS = 5000
CONSISTENCY = """
subscription Consistency($position: BigInt!, $timeoutMs: Int) {
  consistency(position: $position, timeoutMs: $timeoutMs) { reached timedOut }
}
"""
# appends and checkpoints, in each of two API processes and one worker
LISTENERS = 6
LISTENING = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN%' AND application_name <> $1
"""


async def test_waiters_and_subscribers_complete_after_listen_connections_are_dropped(
    database: str, tmp_path: Path
) -> None:
    async with (
        asyncio.timeout(TIMEOUT),
        workers(database, 1),
        api_processes(database, tmp_path, 2) as [(server_a, api_a), (_, api_b)],
        connected(database) as connection,
        watching(server_a, live_through=api_b) as watcher,
    ):
        listening = await eventually(
            lambda: _listening(connection, LISTENERS), 10, f"{LISTENERS} LISTEN connections"
        )
        load = Load([api_b], concurrency=2)
        await load.at_least(10, within=20)
        terminated = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", listening
        )
        assert all(row[0] for row in terminated)
        # committed while the listeners are away (each waits before reconnecting): only
        # the re-reads after reconnecting can tell A and the worker about these
        during = [*(await load.stop())[-2:], await create_order(api_b, unique("dropped"))]
        await _read_on(api_a, during)

        load = Load([api_b], concurrency=2, count=20)
        await _read_on(api_a, await load.finish())
        async with websocket_session(server_a, "graphql-transport-ws") as session:
            request = GraphQLRequest(
                CONSISTENCY,
                variable_values={"position": load.last_position, "timeoutMs": WAIT_MS},
            )
            messages = [message["consistency"] async for message in session.subscribe(request)]
        assert messages[-1] == {"reached": True, "timedOut": False}
        await watcher.reached(load.last_position, within=10)
        await projected(database, load.last_position, within=10)
        # the connections were back, as new backends
        again = await eventually(
            lambda: _listening(connection, LISTENERS), 10, "LISTEN connections again"
        )
        assert not set(again) & set(listening)


async def _read_on(api: Api, created: list[dict[str, Any]]) -> None:
    """Read each order with its position as minPosition: none may give up waiting."""
    for result in created:
        answer = await api.result(
            ORDER, id=result["orderId"], minPosition=result["position"], timeoutMs=WAIT_MS
        )
        assert answer.data["order"]["id"] == result["orderId"]
        assert not (answer.extensions or {}).get("consistency"), answer.extensions


async def _listening(connection: object, count: int) -> list[int] | None:
    rows = await connection.fetch(LISTENING, APPLICATION)  # type: ignore[attr-defined]
    pids = [row["pid"] for row in rows]
    return pids if len(pids) == count else None
