"""`cqrs-orders project --metrics-port` on PostgreSQL: the projection worker's own scrape
shows the events it applied, its batches, and its projections caught up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.observability.scrapes import Scrape, scrape_until
from tests.observability.test_readiness import emptied
from tests.schema.service import (
    AUTH_SETTINGS,
    REQUEST_TIMEOUT,
    SIGNAL_SETTINGS,
    START_TIMEOUT,
    STOP_TIMEOUT,
    create_order,
    http_api,
    serving,
    unique,
)

_RUNNING = re.compile(r"Uvicorn running on (http://\S+)")
PROJECTIONS = ("order_views", "customer_summaries")


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    asyncio.run(emptied(postgres_url))
    yield postgres_url
    asyncio.run(emptied(postgres_url))


@contextlib.asynccontextmanager
async def project_worker(database_url: str, cwd: Path) -> AsyncIterator[str]:
    """`python -m schema.cli project --metrics-port 0` until the block ends; yields the base
    URL of its metrics server; it must then stop cleanly on SIGTERM."""
    environment = {
        k: v for k, v in os.environ.items() if k not in (*AUTH_SETTINGS, *SIGNAL_SETTINGS)
    }
    environment |= {"DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "AUTH": "off"}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "schema.cli", "project", "--metrics-port", "0"),
        cwd=cwd,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while not (running := _RUNNING.search(lines[-1] if lines else "")):
                line = (await process.stdout.readline()).decode()
                assert line, "the worker ended before serving:\n" + "".join(lines)
                lines.append(line)
        draining = asyncio.create_task(_drain(process.stdout, lines))
        yield running.group(1)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_TIMEOUT):
            code = await process.wait()
    await draining
    assert code == 0, "".join(lines)
    assert "Traceback" not in "".join(lines), "".join(lines)


async def _drain(stream: asyncio.StreamReader, lines: list[str]) -> None:
    async for raw in stream:
        lines.append(raw.decode())


async def test_a_projection_worker_serves_its_own_metrics(database: str, tmp_path: Path) -> None:
    api_only = {"PROJECTIONS": "off"}
    with serving("postgres", database, tmp_path, env=api_only) as server:
        async with project_worker(database, tmp_path) as worker_url:
            async with http_api(server) as api:
                orders = [await create_order(api, unique("project")) for _ in range(3)]
            appended = sum(order["version"] for order in orders)
            last = max(order["position"] for order in orders)

            def applied(latest: Scrape) -> bool:
                return all(
                    latest.value("cqrs_projection_events_applied_total", projection=name)
                    == appended
                    and latest.value("cqrs_projection_position", projection=name) >= last
                    and latest.value("cqrs_projection_lag_seconds", projection=name) == 0
                    for name in PROJECTIONS
                )

            latest = await scrape_until(worker_url, applied, "the worker applied every event")
            async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
                ready = await client.get(f"{worker_url}/health/ready")

    for name in PROJECTIONS:
        assert latest.value("cqrs_projection_batch_duration_seconds_count", projection=name) >= 1
    assert not latest.has("cqrs_commands_total", command="CreateOrder", outcome="ok")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
