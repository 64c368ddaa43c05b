"""createOrder and order(id) over HTTP: the real service next to plain Starlette endpoints.

Both servers run as one uvicorn process each, pinned to the server core, on one scratch
database; the load generator (bench.httpload) runs in this process, pinned to the other
core, with 32 keep-alive connections and pre-encoded requests. A cell measures one
operation on one server for `seconds` after `warmup` seconds of the same load; before
every cell the service's projections have caught up, so the core is the cell's alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg

from bench import httpload
from bench.append import BENCH_TABLES
from bench.database import scratch_database, sqlalchemy_url
from bench.report import Figure
from bench.servers import HOST, Server, caught_up, free_port, serve, service_argv
from eventstore import create_engine
from migrations import upgrade

CONNECTIONS = 32
PRELOADED_ORDERS = 2000
# pre-encoded createOrder requests per cell: more than any server here answers in the time
MAX_RATE = 8000

CREATE_ORDER = (
    "mutation($input: CreateOrderInput!) { createOrder(input: $input) "
    "{ orderId version position } }"
)
ORDER = (
    "query($id: ID!) { order(id: $id) { id customerId status itemCount totalAmount "
    "items { productId quantity unitPrice } createdAt updatedAt version } }"
)


def order_input(rng: random.Random) -> dict[str, object]:
    return {
        "commandId": str(uuid.uuid4()),
        "customerId": f"customer-{rng.randrange(5000):05d}",
        "items": [
            {"productId": "mug-classic", "quantity": rng.randint(1, 4), "unitPrice": "9.99"},
            {"productId": "tea-sencha", "quantity": 1, "unitPrice": "11.80"},
        ],
        "shippingAddress": {
            "name": "Ada Lovelace",
            "line1": "12 St James's Sq",
            "city": "London",
            "postalCode": "SW1Y 4JH",
            "country": "GB",
        },
    }


@dataclass(frozen=True, slots=True)
class Target:
    server: Server
    create_path: str
    query_path: str


@dataclass(frozen=True, slots=True)
class Sample:
    per_second: float
    errors: int
    first_error: str | None
    client_cpu: float  # of one core
    server_cpu: float


def create_requests(target: Target, count: int, rng: random.Random) -> list[bytes]:
    server = target.server
    return [
        httpload.post(
            server.host,
            server.port,
            target.create_path,
            {"query": CREATE_ORDER, "variables": {"input": order_input(rng)}},
        )
        for _ in range(count)
    ]


def query_requests(target: Target, order_ids: list[str], count: int) -> Iterator[bytes]:
    """A cycle over `count` pre-encoded queries of random orders."""
    server, rng = target.server, random.Random(11)
    encoded = [
        httpload.post(
            server.host,
            server.port,
            target.query_path,
            {"query": ORDER, "variables": {"id": rng.choice(order_ids)}},
        )
        for _ in range(count)
    ]
    while True:
        yield from encoded


async def measure(
    target: Target, requests: Iterator[bytes], warmup: float, seconds: float
) -> Sample:
    load = httpload.Load(target.server.host, target.server.port, CONNECTIONS)
    await load.start(requests)
    await asyncio.sleep(warmup)  # the window is time, not an event to wait for
    ok, errors = load.tally.ok, load.tally.errors
    cpu, server_cpu = time.process_time(), target.server.cpu_seconds()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - started
    sample = Sample(
        per_second=(load.tally.ok - ok) / elapsed,
        errors=load.tally.errors - errors,
        first_error=load.tally.first_error,
        client_cpu=(time.process_time() - cpu) / elapsed,
        server_cpu=(target.server.cpu_seconds() - server_cpu) / elapsed,
    )
    await load.stop()
    if load.tally.ran_out:
        raise RuntimeError("the load generator ran out of pre-encoded requests: raise MAX_RATE")
    return sample


@contextlib.asynccontextmanager
async def targets(admin_url: str) -> AsyncIterator[tuple[Target, Target]]:
    async with scratch_database(admin_url) as url:
        engine = create_engine(sqlalchemy_url(url))
        await upgrade(engine)
        await engine.dispose()
        connection = await asyncpg.connect(url)
        await connection.execute(BENCH_TABLES)
        await connection.close()
        service_port, plain_port = free_port(), free_port()
        async with (
            serve(
                "service",
                service_argv(service_port),
                {"DATABASE_URL": sqlalchemy_url(url), "GRAPHIQL": "off"},
                service_port,
            ) as service,
            serve(
                "plain",
                [sys.executable, "-m", "bench.plain_app", "--port", str(plain_port)],
                {"BENCH_DATABASE_URL": url},
                plain_port,
            ) as plain,
        ):
            yield Target(service, "/graphql", "/graphql"), Target(plain, "/orders", "/order")


def _describe(sample: Sample) -> str:
    return (
        f"{sample.per_second:,.0f}/s, {sample.errors} errors, load generator CPU "
        f"{sample.client_cpu:.0%}, server CPU {sample.server_cpu:.0%}"
    )


async def figures(admin_url: str, warmup: float, seconds: float, repeats: int) -> list[Figure]:
    rng = random.Random(5)
    async with targets(admin_url) as (service, plain):
        pinning = f"service on CPU {service.server.affinity()}, plain on {plain.server.affinity()}"
        print(f"  http: {pinning}; preloading {PRELOADED_ORDERS} orders", file=sys.stderr)
        bodies = await httpload.send_all(
            HOST, service.server.port, create_requests(service, PRELOADED_ORDERS, rng), CONNECTIONS
        )
        order_ids = [json.loads(body)["data"]["createOrder"]["orderId"] for body in bodies]
        samples: dict[tuple[str, str], list[Sample]] = {}
        count = int(MAX_RATE * (warmup + seconds))
        for repeat in range(1, repeats + 1):
            pairs = [(service, plain), (plain, service)][repeat % 2]
            for operation in ("createOrder", "order(id)"):
                for target in pairs:
                    await caught_up(service.server)
                    if operation == "createOrder":
                        requests = iter(create_requests(target, count, rng))
                    else:
                        requests = query_requests(target, order_ids, 5000)
                    sample = await measure(target, requests, warmup, seconds)
                    samples.setdefault((operation, target.server.name), []).append(sample)
                    if sample.errors:
                        print(target.server.log_tail(), file=sys.stderr)
                    print(
                        f"  http [{repeat}/{repeats}] {operation} on {target.server.name}: "
                        + _describe(sample),
                        file=sys.stderr,
                    )
        await caught_up(service.server)
    return [_figure(operation, samples, pinning) for operation in ("createOrder", "order(id)")]


def _figure(operation: str, samples: dict[tuple[str, str], list[Sample]], pinning: str) -> Figure:
    runs, baseline = samples[(operation, "service")], samples[(operation, "plain")]
    figure = Figure(
        name=f"{operation} over HTTP, {CONNECTIONS} connections",
        backend="postgres",
        unit="req/s",
        runs=[s.per_second for s in runs],
        baseline_runs=[s.per_second for s in baseline],
        target="ratio >= 0.40",
    )
    errors = sum(s.errors for s in runs + baseline)
    first = next((s.first_error for s in runs + baseline if s.first_error), None)
    notes = [
        f"{operation}: {pinning}; load generator CPU (of its core) "
        + " / ".join(f"{s.client_cpu:.0%}" for s in runs)
        + " (service), "
        + " / ".join(f"{s.client_cpu:.0%}" for s in baseline)
        + " (plain); server CPU "
        + " / ".join(f"{s.server_cpu:.0%}" for s in runs)
        + " (service), "
        + " / ".join(f"{s.server_cpu:.0%}" for s in baseline)
        + f" (plain); {errors} errors"
        + (f", first: {first}" if first else ""),
    ]
    met = (figure.ratio or 0.0) >= 0.40 and errors == 0
    return dataclasses.replace(figure, notes=notes, met=met)
