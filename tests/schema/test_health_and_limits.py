"""GET /health against a real server, and the websocket message size limit of `serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from eventstore import create_engine
from readmodels.status.checkpoints import projection_checkpoints
from schema.cli.serve import MAX_WEBSOCKET_MESSAGE_BYTES
from tests.conftest import sqlite_url
from tests.schema.service import REQUEST_TIMEOUT, Server, serving


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("health")


@pytest.fixture(scope="module")
def server(directory: Path) -> Iterator[Server]:
    with serving("sqlite", sqlite_url(directory), directory) as running:
        yield running


async def mark_customer_summaries(directory: Path, state: str) -> None:
    """Put the projection's checkpoint in `state`, as a poison event would leave it."""
    engine = create_engine(sqlite_url(directory))
    async with engine.begin() as conn:
        await conn.execute(
            update(projection_checkpoints)
            .where(projection_checkpoints.c.name == "customer_summaries")
            .values(state=state, last_error=None if state == "RUNNING" else "poisoned event")
        )
    await engine.dispose()


def test_health_is_ok_with_the_database_and_every_projection_running(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/health", timeout=REQUEST_TIMEOUT)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "authentication": "off",
        "projections": {
            "order_views": {"state": "RUNNING", "lag": 0},
            "customer_summaries": {"state": "RUNNING", "lag": 0},
        },
    }


async def test_health_says_unavailable_while_a_projection_has_failed(
    server: Server, directory: Path
) -> None:
    await mark_customer_summaries(directory, "FAILED")
    try:
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
            response = await client.get(f"{server.base_url}/health")
    finally:
        await mark_customer_summaries(directory, "RUNNING")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["projections"]["customer_summaries"]["state"] == "FAILED"


async def test_a_websocket_message_over_the_limit_closes_the_connection(server: Server) -> None:
    too_big = "x" * (MAX_WEBSOCKET_MESSAGE_BYTES + 1)
    async with connect(server.websocket_url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(too_big)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # "message too big"
