"""`cqrs-orders serve` on SQLite with its one writer: killed with SIGKILL under load it
loses no answered command and doubles none; another process writing beside it waits for
the file lock and succeeds."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from tests.conftest import sqlite_url
from tests.schema.service import (
    CREATE_ORDER,
    ORDER,
    START_TIMEOUT,
    create_order_input,
    http_api,
    serving,
)

CLIENTS = 16
# answered commands before the kill: enough that several groups are in flight at once
BEFORE_KILL = 300
_RUNNING = re.compile(r"Uvicorn running on (http://\S+)")


@contextmanager
def killable_server(directory: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`serve` on the SQLite file of `directory`, to be killed by the test (`serving`
    insists on a clean exit)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH", "DATABASE"))}
    environment |= {"DATABASE_URL": sqlite_url(directory), "AUTH": "off", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "schema.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=directory,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found: list[str] = []
    started = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not found and (running := _RUNNING.search(line)):
                found.append(running.group(1))
                started.set()
        started.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        assert started.wait(START_TIMEOUT) and found, "the server did not start"
        yield process, f"{found[0]}/graphql"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        reader.join(30)
        assert process.stdout is not None
        process.stdout.close()


async def create(client: httpx.AsyncClient, url: str, command_id: str) -> dict[str, Any]:
    body = {
        "query": CREATE_ORDER,
        "variables": {"input": create_order_input("ada", commandId=command_id)},
    }
    response = await client.post(url, json=body)
    response.raise_for_status()
    payload = response.json()
    assert "errors" not in payload, payload
    result: dict[str, Any] = payload["data"]["createOrder"]
    return result


async def test_a_killed_server_keeps_every_answered_command_once(tmp_path: Path) -> None:
    answered: dict[str, dict[str, Any]] = {}
    enough = asyncio.Event()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            while True:
                command_id = str(uuid4())
                try:
                    result = await create(http, url, command_id)
                except httpx.TransportError:
                    return  # the server is gone: this command got no answer
                answered[command_id] = result
                if len(answered) >= BEFORE_KILL:
                    enough.set()

    with killable_server(tmp_path) as (process, url):
        clients = [asyncio.create_task(client(url)) for _ in range(CLIENTS)]
        async with asyncio.timeout(120):
            await enough.wait()
            process.send_signal(signal.SIGKILL)
            await asyncio.gather(*clients)
        assert process.wait(30) == -signal.SIGKILL

    with sqlite3.connect(tmp_path / "orders.db") as db:
        commands = dict(db.execute("SELECT command_id, stream_id FROM handled_commands"))
        streams = dict(db.execute("SELECT stream_id, count(*) FROM events GROUP BY stream_id"))
    for command_id, result in answered.items():
        stream = commands.get(command_id.replace("-", ""))
        assert stream == result["streamId"], f"answered command {command_id} is not in the log"
        assert streams[stream] == 1, f"order {result['orderId']} was created twice"

    last = max(result["position"] for result in answered.values())
    with serving("sqlite", sqlite_url(tmp_path), tmp_path) as server:
        async with http_api(server) as api:
            for result in answered.values():
                order = await api.data(
                    ORDER, id=result["orderId"], minPosition=last, timeoutMs=30_000
                )
                assert order["order"]["version"] == 1, result
            # a client that retries an answered command after the restart gets its answer
            command_id, first = next(iter(answered.items()))
            again = (
                await api.data(CREATE_ORDER, input=create_order_input("ada", commandId=command_id))
            )["createOrder"]
            assert again["duplicate"] and again["position"] == first["position"]


async def test_another_process_writes_beside_the_service_and_neither_fails(
    tmp_path: Path,
) -> None:
    with serving("sqlite", sqlite_url(tmp_path), tmp_path) as server:
        async with httpx.AsyncClient(timeout=30) as http:
            demo = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "schema.cli", "demo", "--orders", "150"),
                cwd=tmp_path,
                env={**os.environ, "DATABASE_URL": sqlite_url(tmp_path)},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            demo_output = asyncio.ensure_future(demo.communicate())
            created = 0

            async def client() -> None:
                nonlocal created
                while not demo_output.done():  # for as long as the demo writes
                    await create(http, server.graphql_url, str(uuid4()))
                    created += 1

            async with asyncio.timeout(120):
                await asyncio.gather(*(client() for _ in range(8)))
                stdout, stderr = await demo_output
        log = "".join(server.lines)

    assert demo.returncode == 0, stderr.decode()
    assert b"loaded 150 orders" in stdout
    assert created > 0
    assert "database is locked" not in stderr.decode() + log
    with sqlite3.connect(tmp_path / "orders.db") as db:
        orders = db.execute("SELECT count(*) FROM events WHERE event_type = 'OrderCreated'")
        assert orders.fetchone()[0] == 150 + created
