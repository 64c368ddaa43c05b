"""What a persisted order(id) saves: the query by its APQ hash against the same query sent
with its document, over HTTP to one `cqrs-orders serve` on PostgreSQL, in the same run.

Both cells ask for the same orders with the same variables; the persisted cell's requests
carry `extensions.persistedQuery` and no document (registered once before the cells, as
a client's first retry would). Cells alternate their order from one repetition to the next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import random
import sys
from collections.abc import AsyncIterator, Iterator

from bench import httpload
from bench.database import scratch_database, sqlalchemy_url
from bench.http import (
    CONNECTIONS,
    ORDER,
    PRELOADED_ORDERS,
    Sample,
    Target,
    create_requests,
    measure,
)
from bench.report import Figure
from bench.servers import HOST, caught_up, free_port, serve, service_argv
from eventstore import create_engine
from migrations import upgrade

_PERSISTED = {
    "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(ORDER.encode()).hexdigest()}
}
_QUERIES = 5000


@contextlib.asynccontextmanager
async def service(admin_url: str) -> AsyncIterator[Target]:
    async with scratch_database(admin_url) as url:
        engine = create_engine(sqlalchemy_url(url))
        await upgrade(engine)
        await engine.dispose()
        port = free_port()
        env = {"DATABASE_URL": sqlalchemy_url(url), "GRAPHIQL": "off"}
        async with serve("persisted", service_argv(port), env, port) as server:
            yield Target(server, "/graphql", "/graphql")


def order_requests(target: Target, order_ids: list[str], persisted: bool) -> list[bytes]:
    """`_QUERIES` pre-encoded order(id) requests of random orders, the same for both cells."""
    rng, server = random.Random(13), target.server
    return [
        httpload.post(
            server.host,
            server.port,
            target.query_path,
            {"extensions": _PERSISTED, "variables": {"id": rng.choice(order_ids)}}
            if persisted
            else {"query": ORDER, "variables": {"id": rng.choice(order_ids)}},
        )
        for _ in range(_QUERIES)
    ]


def _cycle(requests: list[bytes]) -> Iterator[bytes]:
    while True:
        yield from requests


async def figures(admin_url: str, warmup: float, seconds: float, repeats: int) -> list[Figure]:
    rng = random.Random(17)
    async with service(admin_url) as target:
        pinning = f"service on CPU {target.server.affinity()}"
        print(f"  persisted: {pinning}; preloading {PRELOADED_ORDERS} orders", file=sys.stderr)
        bodies = await httpload.send_all(
            HOST, target.server.port, create_requests(target, PRELOADED_ORDERS, rng), CONNECTIONS
        )
        order_ids = [json.loads(body)["data"]["createOrder"]["orderId"] for body in bodies]
        # the client's retry with the document registers it, once
        register = httpload.post(
            HOST,
            target.server.port,
            "/graphql",
            {"query": ORDER, "variables": {"id": order_ids[0]}, "extensions": _PERSISTED},
        )
        (answer,) = await httpload.send_all(HOST, target.server.port, [register], 1)
        assert "errors" not in json.loads(answer), answer
        encoded = {
            cell: order_requests(target, order_ids, cell == "hash") for cell in ("hash", "document")
        }
        samples: dict[str, list[Sample]] = {"hash": [], "document": []}
        for repeat in range(1, repeats + 1):
            for cell in [("hash", "document"), ("document", "hash")][repeat % 2]:
                await caught_up(target.server)
                sample = await measure(target, _cycle(encoded[cell]), warmup, seconds)
                samples[cell].append(sample)
                print(
                    f"  persisted [{repeat}/{repeats}] order(id) by {cell}: "
                    f"{sample.per_second:,.0f}/s, {sample.errors} errors, server CPU "
                    f"{sample.server_cpu:.0%}",
                    file=sys.stderr,
                )
    sizes = {cell: sum(map(len, requests)) / len(requests) for cell, requests in encoded.items()}
    runs, baseline = samples["hash"], samples["document"]
    figure = Figure(
        name="order(id) over HTTP, persisted (APQ hash) vs the document",
        backend="postgres",
        unit="req/s",
        runs=[s.per_second for s in runs],
        baseline_runs=[s.per_second for s in baseline],
        target="ratio >= 1.00 (no slower), smaller requests",
    )
    errors = sum(s.errors for s in runs + baseline)
    notes = [
        f"order(id) persisted vs document: {pinning}; request bytes "
        f"{sizes['hash']:.0f} (hash) vs {sizes['document']:.0f} (document); server CPU per "
        "request "
        + " / ".join(f"{s.server_cpu / s.per_second * 1e6:.0f} us" for s in runs)
        + " (hash), "
        + " / ".join(f"{s.server_cpu / s.per_second * 1e6:.0f} us" for s in baseline)
        + f" (document); {errors} errors"
    ]
    met = (figure.ratio or 0.0) >= 1.0 and sizes["hash"] < sizes["document"] and errors == 0
    return [dataclasses.replace(figure, notes=notes, met=met)]
