"""The cost of the metrics: createOrder and order(id) over HTTP, METRICS=on next to
METRICS=off, in the same run (the issue's target: under 5%, a ratio of 0.95 or more).

Two `cqrs-orders serve` processes, each on a scratch database of its own and pinned to the
server core; they differ in METRICS only (LOG_FORMAT plain, no traces, as served by
default). Cells alternate their order from one repetition to the next, and before each
cell both services' projections have caught up, so the core is the cell's alone; the
measured service's projections run within its cell, their metrics included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import sys
from collections.abc import AsyncIterator

from bench import httpload
from bench.database import scratch_database, sqlalchemy_url
from bench.http import (
    CONNECTIONS,
    MAX_RATE,
    PRELOADED_ORDERS,
    Sample,
    Target,
    create_requests,
    measure,
    query_requests,
)
from bench.report import Figure
from bench.servers import HOST, caught_up, free_port, serve, service_argv
from eventstore import create_engine
from migrations import upgrade

TARGET_RATIO = 0.95


@contextlib.asynccontextmanager
async def service(admin_url: str, name: str, metrics: str) -> AsyncIterator[Target]:
    async with scratch_database(admin_url) as url:
        engine = create_engine(sqlalchemy_url(url))
        await upgrade(engine)
        await engine.dispose()
        port = free_port()
        env = {"DATABASE_URL": sqlalchemy_url(url), "GRAPHIQL": "off", "METRICS": metrics}
        async with serve(name, service_argv(port), env, port) as server:
            yield Target(server, "/graphql", "/graphql")


async def figures(admin_url: str, warmup: float, seconds: float, repeats: int) -> list[Figure]:
    rng = random.Random(7)
    async with (
        service(admin_url, "metrics-on", "on") as on,
        service(admin_url, "metrics-off", "off") as off,
    ):
        pinning = f"both services on CPU {on.server.affinity()}"
        print(f"  metrics: {pinning}; preloading {PRELOADED_ORDERS} orders each", file=sys.stderr)
        order_ids: dict[str, list[str]] = {}
        for target in (on, off):
            preload = create_requests(target, PRELOADED_ORDERS, rng)
            bodies = await httpload.send_all(HOST, target.server.port, preload, CONNECTIONS)
            ids = [json.loads(body)["data"]["createOrder"]["orderId"] for body in bodies]
            order_ids[target.server.name] = ids
        samples: dict[tuple[str, str], list[Sample]] = {}
        count = int(MAX_RATE * (warmup + seconds))
        for repeat in range(1, repeats + 1):
            pairs = [(on, off), (off, on)][repeat % 2]
            for operation in ("createOrder", "order(id)"):
                for target in pairs:
                    await caught_up(on.server)
                    await caught_up(off.server)
                    if operation == "createOrder":
                        requests = iter(create_requests(target, count, rng))
                    else:
                        requests = query_requests(target, order_ids[target.server.name], 5000)
                    sample = await measure(target, requests, warmup, seconds)
                    samples.setdefault((operation, target.server.name), []).append(sample)
                    print(
                        f"  metrics [{repeat}/{repeats}] {operation} on {target.server.name}: "
                        f"{sample.per_second:,.0f}/s, {sample.errors} errors, server CPU "
                        f"{sample.server_cpu:.0%}",
                        file=sys.stderr,
                    )
    return [_figure(operation, samples, pinning) for operation in ("createOrder", "order(id)")]


def _figure(operation: str, samples: dict[tuple[str, str], list[Sample]], pinning: str) -> Figure:
    runs, baseline = samples[(operation, "metrics-on")], samples[(operation, "metrics-off")]
    figure = Figure(
        name=f"{operation} over HTTP, METRICS=on vs off",
        backend="postgres",
        unit="req/s",
        runs=[s.per_second for s in runs],
        baseline_runs=[s.per_second for s in baseline],
        target=f"ratio >= {TARGET_RATIO:.2f}",
    )
    errors = sum(s.errors for s in runs + baseline)
    notes = [
        f"{operation} METRICS=on vs off: {pinning}; server CPU "
        + " / ".join(f"{s.server_cpu:.0%}" for s in runs)
        + " (on), "
        + " / ".join(f"{s.server_cpu:.0%}" for s in baseline)
        + f" (off); {errors} errors"
    ]
    met = (figure.ratio or 0.0) >= TARGET_RATIO and errors == 0
    return dataclasses.replace(figure, notes=notes, met=met)
