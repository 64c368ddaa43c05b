"""extensions.consistency belongs to its operation: on one websocket, whose context every
operation on the connection shares, a read that gave up waiting marks its own result
stale, and none of the operations after it or beside it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

from websockets.asyncio.client import ClientConnection

from schema.app import create_app
from schema.settings import Settings
from tests.conftest import sqlite_url
from tests.schema.in_loop import WAIT_SECONDS, connected, serving

ORDER = (
    "query Order($id: ID!, $at: BigInt) { order(id: $id, minPosition: $at, timeoutMs: 300) { id } }"
)
UNREACHABLE = 10**12


async def result_of(connection: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The payload of the operation's result (messages of other operations are skipped)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            message = json.loads(await connection.recv())
            if message.get("id") == operation_id and message["type"] == "next":
                payload: dict[str, Any] = message["payload"]
                return payload


async def send(connection: ClientConnection, operation_id: str, at: int | None) -> None:
    variables = {"id": str(uuid4()), "at": at}
    payload = {"query": ORDER, "variables": variables}
    await connection.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


async def test_a_stale_read_marks_only_its_own_operation(tmp_path: Path) -> None:
    # no projection runs: a position beyond the head is never reached
    settings = Settings(database_url=sqlite_url(tmp_path), projections=False)
    async with (
        serving(create_app(settings)) as served,
        connected(served.url, "graphql-transport-ws") as connection,
    ):
        await send(connection, "gave-up", UNREACHABLE)
        await send(connection, "beside", None)  # runs while the first one waits
        beside = await result_of(connection, "beside")
        gave_up = await result_of(connection, "gave-up")
        await send(connection, "after", None)
        after = await result_of(connection, "after")

    assert gave_up["extensions"]["consistency"]["stale"] is True
    assert gave_up["extensions"]["consistency"]["position"] == UNREACHABLE
    assert "consistency" not in beside.get("extensions", {})
    assert "consistency" not in after.get("extensions", {})
