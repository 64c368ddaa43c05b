"""`serve --workers 2` on PostgreSQL: one scrape adds up the commands of both workers."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.observability.scrapes import scrape
from tests.observability.test_readiness import emptied
from tests.schema.service import create_order, http_api, serving, unique

# bounds: orders sent until both workers have served some, and the time for it
MAX_ORDERS = 200
WITHIN_SECONDS = 60.0
CREATED = {"command": "CreateOrder", "outcome": "ok"}


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    asyncio.run(emptied(postgres_url))
    yield postgres_url
    asyncio.run(emptied(postgres_url))


def created_by_each_worker(directory: Path, scratch: Path) -> dict[int, float]:
    """CreateOrder commands counted by each worker process, read from its own file."""
    counts = {}
    for file in directory.glob("counter_*.db"):
        pid = int(file.stem.split("_")[1])
        alone = scratch / str(pid)
        alone.mkdir(exist_ok=True)
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        counts[pid] = registry.get_sample_value("cqrs_commands_total", CREATED) or 0.0
    return counts


async def test_one_scrape_counts_the_commands_of_both_workers(
    database: str, tmp_path: Path
) -> None:
    directory, scratch = tmp_path / "metrics", tmp_path / "scratch"
    directory.mkdir()
    scratch.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    arguments = ["--workers", "2"]
    with serving("postgres", database, tmp_path, env=env, arguments=arguments) as server:
        sent = 0
        async with asyncio.timeout(WITHIN_SECONDS):
            # the parent announces the port before its workers listen on it
            while sum("Application startup complete" in line for line in server.lines) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            # a connection per order, so that both workers' accept loops get some
            while sent < MAX_ORDERS:
                async with http_api(server) as api:
                    await create_order(api, unique("workers"))
                sent += 1
                by_worker = created_by_each_worker(directory, scratch)
                if len([count for count in by_worker.values() if count]) == 2:
                    break
        # a scrape on a new connection each time: either worker may answer
        totals = [
            (await scrape(server.base_url)).value("cqrs_commands_total", **CREATED)
            for _ in range(4)
        ]

    assert len([count for count in by_worker.values() if count]) == 2, by_worker
    assert sum(by_worker.values()) == sent
    assert totals == [sent] * 4
