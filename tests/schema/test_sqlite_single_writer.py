"""`cqrs-orders serve` on SQLite with its one writer: killed with SIGKILL under load it
loses no answered command and doubles none; another process writing beside it (`demo`,
`migrate`, `rebuild --all`) waits for the file lock and succeeds, and the service answers
every command meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from tests.conftest import sqlite_url
from tests.schema.service import (
    CREATE_ORDER,
    ORDER,
    PROJECTIONS,
    START_TIMEOUT,
    Server,
    create_order_input,
    http_api,
    serving,
    unique,
)

CLIENTS = 16
# answered commands before the kill: enough that several groups are in flight at once
BEFORE_KILL = 300
# clients writing while a command line runs beside the service, and their answers before it
# starts: it starts under load, and a rebuild has a log to replay while they keep writing
BESIDE_CLIENTS = 8
BESIDE_LOAD = 100
# create_order_input's order
ORDER_TOTAL = Decimal("29.98")
CUSTOMER_SUMMARY = """
query Summary($customerId: ID!, $minPosition: BigInt, $timeoutMs: Int) {
  customerSummary(customerId: $customerId, minPosition: $minPosition, timeoutMs: $timeoutMs) {
    orderCount totalSpent
  }
}
"""
CUSTOMER_ORDERS = """
query Orders($customerId: ID!, $page: Int, $minPosition: BigInt, $timeoutMs: Int) {
  customerOrders(
    customerId: $customerId, page: $page, pageSize: 100, minPosition: $minPosition,
    timeoutMs: $timeoutMs
  ) { items { id totalAmount } totalPages }
}
"""
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


async def create(
    client: httpx.AsyncClient, url: str, command_id: str, customer_id: str = "ada"
) -> dict[str, Any]:
    body = {
        "query": CREATE_ORDER,
        "variables": {"input": create_order_input(customer_id, commandId=command_id)},
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


@dataclass
class Beside:
    """A command line run beside the service while its clients wrote, and what the service
    answered them meanwhile."""

    returncode: int
    stdout: str
    stderr: str
    # each client's customer, and the createOrder results it got, in order
    answered: dict[str, list[dict[str, Any]]] = field(repr=False)

    @property
    def created(self) -> int:
        return sum(len(results) for results in self.answered.values())

    @property
    def last_position(self) -> int:
        positions = (result["position"] for results in self.answered.values() for result in results)
        last: int = max(positions)
        return last


async def run_beside_writers(server: Server, directory: Path, *arguments: str) -> Beside:
    """`python -m schema.cli *arguments` on the service's SQLite file once its clients have
    BESIDE_LOAD answers, while they keep writing until the command has exited."""
    answered: dict[str, list[dict[str, Any]]] = {
        unique("beside"): [] for _ in range(BESIDE_CLIENTS)
    }
    under_load = asyncio.Event()
    exited = asyncio.Event()

    async def client(http: httpx.AsyncClient, customer: str) -> None:
        while not exited.is_set():
            result = await create(http, server.graphql_url, str(uuid4()), customer)
            answered[customer].append(result)
            if sum(len(results) for results in answered.values()) >= BESIDE_LOAD:
                under_load.set()

    # a failing client cancels the whole group, so nothing waits for a load that stopped
    async with (
        httpx.AsyncClient(timeout=30) as http,
        asyncio.timeout(120),
        asyncio.TaskGroup() as clients,
    ):
        for customer in answered:
            clients.create_task(client(http, customer))
        await under_load.wait()
        command = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "schema.cli", *arguments),
            cwd=directory,
            env={**os.environ, "DATABASE_URL": sqlite_url(directory)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await command.communicate()
        exited.set()
    assert command.returncode is not None
    return Beside(command.returncode, stdout.decode(), stderr.decode(), answered)


async def assert_read_models_hold(server: Server, beside: Beside) -> None:
    """Every order the clients created is in both read models, with its total."""
    async with http_api(server) as api:
        for customer, results in beside.answered.items():
            waited = {"minPosition": beside.last_position, "timeoutMs": 30_000}
            summary = (await api.data(CUSTOMER_SUMMARY, customerId=customer, **waited))[
                "customerSummary"
            ]
            assert summary["orderCount"] == len(results), (customer, summary)
            assert Decimal(summary["totalSpent"]) == ORDER_TOTAL * len(results), summary
            listed: dict[str, str] = {}
            for page in itertools.count(1):
                orders = (
                    await api.data(CUSTOMER_ORDERS, customerId=customer, page=page, **waited)
                )["customerOrders"]
                listed |= {order["id"]: order["totalAmount"] for order in orders["items"]}
                if page >= orders["totalPages"]:
                    break
            assert {order: Decimal(total) for order, total in listed.items()} == {
                result["orderId"]: ORDER_TOTAL for result in results
            }, customer
        statuses = (await api.data(PROJECTIONS))["projections"]
        assert all(status["state"] == "RUNNING" for status in statuses), statuses


def assert_log_holds(directory: Path, orders: int) -> None:
    with sqlite3.connect(directory / "orders.db") as db:
        created = db.execute("SELECT count(*) FROM events WHERE event_type = 'OrderCreated'")
        assert created.fetchone()[0] == orders


async def test_another_process_writes_beside_the_service_and_neither_fails(
    tmp_path: Path,
) -> None:
    with serving("sqlite", sqlite_url(tmp_path), tmp_path) as server:
        demo = await run_beside_writers(server, tmp_path, "demo", "--orders", "150")
        await assert_read_models_hold(server, demo)

    assert demo.returncode == 0, demo.stderr
    assert "loaded 150 orders" in demo.stdout
    assert "database is locked" not in demo.stderr + "".join(server.lines)
    assert_log_holds(tmp_path, 150 + demo.created)


async def test_migrate_beside_the_writing_service_waits_and_succeeds(tmp_path: Path) -> None:
    with serving("sqlite", sqlite_url(tmp_path), tmp_path) as server:
        migrate = await run_beside_writers(server, tmp_path, "migrate")
        await assert_read_models_hold(server, migrate)

    assert migrate.returncode == 0, migrate.stderr
    assert "up to date" in migrate.stdout  # the service migrated the file as it started
    assert "database is locked" not in migrate.stderr + "".join(server.lines)
    assert_log_holds(tmp_path, migrate.created)


async def test_rebuild_beside_the_writing_service_waits_and_succeeds(tmp_path: Path) -> None:
    with serving("sqlite", sqlite_url(tmp_path), tmp_path) as server:
        rebuild = await run_beside_writers(server, tmp_path, "rebuild", "--all")
        # the replayed read models hold the orders created before, during and after it
        await assert_read_models_hold(server, rebuild)

    assert rebuild.returncode == 0, rebuild.stderr
    assert "order_views" in rebuild.stderr and "customer_summaries" in rebuild.stderr
    assert "database is locked" not in rebuild.stderr + "".join(server.lines)
    assert_log_holds(tmp_path, rebuild.created)
