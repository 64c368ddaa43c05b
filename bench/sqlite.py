"""The embedded default next to its limits: SQLite appends through the one writer (group
commit) next to the sqlite3 module committing one row per transaction, createOrder over
HTTP on SQLite next to PostgreSQL, and the append -> projection lag on SQLite.

Every SQLite file here is in the system's temporary directory (on the disk), never
on /dev/shm: on tmpfs an fsync costs nothing, and synchronous=FULL would measure nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

from bench import http, httpload, projections
from bench.database import scratch_database, sqlalchemy_url
from bench.http import CONNECTIONS, MAX_RATE, Sample, Target, create_requests
from bench.report import Figure, percentile
from bench.servers import HOST, caught_up, free_port, serve, service_argv
from eventstore import EventStore, NewEvent, create_engine
from eventstore.sqlite import SqliteLog
from migrations import upgrade

APPENDERS = 16
APPEND_TARGET = 10_000  # commands/s
HTTP_RATIO = 0.9
HTTP_LATENCY = 1.5  # SQLite's latency at most this times PostgreSQL's


def disk_directory() -> tempfile.TemporaryDirectory[str]:
    # the system's temporary directory, which is on the disk here (docs/benchmarks.md)
    return tempfile.TemporaryDirectory(prefix="bench-sqlite-")


# --- appends -----------------------------------------------------------------------------


def direct_rate(synchronous: str, seconds: float) -> float:
    """One thread committing one-row transactions with the sqlite3 module: the limit of
    one fsync per commit (FULL), or of the statements alone (NORMAL: no fsync at commit)."""
    with disk_directory() as directory:
        connection = sqlite3.connect(Path(directory) / "direct.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
        count, payload = 0, json.dumps({"n": 1})
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t (data) VALUES (?)", (payload,))
            connection.execute("COMMIT")
            count += 1
        elapsed = time.perf_counter() - started
        connection.close()
    return count / elapsed


@dataclasses.dataclass(frozen=True, slots=True)
class AppendSample:
    per_second: float
    group_size: float


async def store_rate(seconds: float, warmup: float) -> AppendSample:
    """EventStore.append of one-event commands (new streams, like createOrder) from
    APPENDERS concurrent tasks, for `seconds` after `warmup`."""
    with disk_directory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(directory) / 'orders.db'}")
        await upgrade(engine)
        store = EventStore(engine)
        log = store._log
        assert isinstance(log, SqliteLog)
        writer = log.writer
        counted = False
        count = 0
        stop = False

        async def appender() -> None:
            nonlocal count
            while not stop:
                event = NewEvent(event_type="Tick", schema_version=1, data={"n": 1})
                await store.append(f"s-{uuid4()}", "S", [event], 0, uuid4())
                if counted:
                    count += 1

        tasks = [asyncio.create_task(appender()) for _ in range(APPENDERS)]
        await asyncio.sleep(warmup)  # the window is time, not an event to wait for
        counted, groups, jobs = True, writer.groups, writer.grouped_jobs
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        measured, groups, jobs = count, writer.groups - groups, writer.grouped_jobs - jobs
        stop = True
        await asyncio.gather(*tasks)
        await store.close()
        await engine.dispose()
    return AppendSample(measured / elapsed, jobs / max(groups, 1))


async def append_figure(seconds: float, warmup: float, repeats: int) -> Figure:
    full, normal, samples = [], [], []
    for repeat in range(1, repeats + 1):
        full.append(await asyncio.to_thread(direct_rate, "FULL", seconds))
        normal.append(await asyncio.to_thread(direct_rate, "NORMAL", seconds))
        samples.append(await store_rate(seconds, warmup))
        print(
            f"  sqlite appends [{repeat}/{repeats}]: store {samples[-1].per_second:,.0f}/s "
            f"(groups of {samples[-1].group_size:.1f}); sqlite3 one row per commit "
            f"FULL {full[-1]:,.0f}/s, NORMAL {normal[-1]:,.0f}/s",
            file=sys.stderr,
        )
    figure = Figure(
        name=f"EventStore.append, 1 event, {APPENDERS} appenders, FULL (baseline: sqlite3, "
        "one row per commit, FULL)",
        backend="sqlite",
        unit="cmd/s",
        runs=[s.per_second for s in samples],
        baseline_runs=full,
        target=f">= {APPEND_TARGET:,} cmd/s",
    )
    notes = [
        "sqlite appends: sqlite3 one row per commit with NORMAL "
        + " / ".join(f"{n:,.0f}/s" for n in normal)
        + "; mean group size "
        + " / ".join(f"{s.group_size:.1f}" for s in samples)
    ]
    return dataclasses.replace(figure, notes=notes, met=figure.median >= APPEND_TARGET)


# --- createOrder over HTTP ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def services(admin_url: str) -> AsyncIterator[tuple[Target, Target]]:
    """The service on a SQLite file and on a scratch PostgreSQL database, one process each."""
    with disk_directory() as directory:
        sqlite_url = f"sqlite+aiosqlite:///{Path(directory) / 'orders.db'}"
        engine = create_engine(sqlite_url)
        await upgrade(engine)
        await engine.dispose()
        async with scratch_database(admin_url) as url:
            engine = create_engine(sqlalchemy_url(url))
            await upgrade(engine)
            await engine.dispose()
            sqlite_port, postgres_port = free_port(), free_port()
            async with (
                serve(
                    "sqlite",
                    service_argv(sqlite_port),
                    {"DATABASE_URL": sqlite_url, "GRAPHIQL": "off"},
                    sqlite_port,
                ) as on_sqlite,
                serve(
                    "postgres",
                    service_argv(postgres_port),
                    {"DATABASE_URL": sqlalchemy_url(url), "GRAPHIQL": "off"},
                    postgres_port,
                ) as on_postgres,
            ):
                yield Target(on_sqlite, "/graphql", "/graphql"), Target(on_postgres, "/graphql", "")


async def http_figures(admin_url: str, warmup: float, seconds: float, repeats: int) -> list[Figure]:
    rng = random.Random(13)
    samples: dict[str, list[Sample]] = {"sqlite": [], "postgres": []}
    async with services(admin_url) as (on_sqlite, on_postgres):
        for target in (on_sqlite, on_postgres):  # some orders in the tables first
            await httpload.send_all(
                HOST, target.server.port, create_requests(target, 500, rng), CONNECTIONS
            )
        count = int(MAX_RATE * (warmup + seconds))
        for repeat in range(1, repeats + 1):
            for target in [(on_sqlite, on_postgres), (on_postgres, on_sqlite)][repeat % 2]:
                await caught_up(target.server)
                requests = iter(create_requests(target, count, rng))
                sample = await http.measure(target, requests, warmup, seconds)
                samples[target.server.name].append(sample)
                if sample.errors:
                    print(target.server.log_tail(), file=sys.stderr)
                print(
                    f"  sqlite http [{repeat}/{repeats}] createOrder on {target.server.name}: "
                    f"{sample.per_second:,.0f}/s, {sample.errors} errors, server CPU "
                    f"{sample.server_cpu:.0%}",
                    file=sys.stderr,
                )
    sqlite_runs, postgres_runs = samples["sqlite"], samples["postgres"]
    errors = sum(s.errors for s in sqlite_runs + postgres_runs)
    rate = Figure(
        name=f"createOrder over HTTP, {CONNECTIONS} connections (baseline: PostgreSQL)",
        backend="sqlite",
        unit="req/s",
        runs=[s.per_second for s in sqlite_runs],
        baseline_runs=[s.per_second for s in postgres_runs],
        target=f"ratio >= {HTTP_RATIO}",
    )
    # a closed loop of CONNECTIONS clients: the mean latency is CONNECTIONS / rate
    # (Little's law); httpload times no single request
    latency = Figure(
        name=f"createOrder mean latency, {CONNECTIONS} connections (baseline: PostgreSQL)",
        backend="sqlite",
        unit="ms",
        runs=[CONNECTIONS / s.per_second * 1000 for s in sqlite_runs],
        baseline_runs=[CONNECTIONS / s.per_second * 1000 for s in postgres_runs],
        target=f"ratio <= {HTTP_LATENCY}",
    )
    note = (
        f"sqlite http: {errors} errors; server CPU "
        + " / ".join(f"{s.server_cpu:.0%}" for s in sqlite_runs)
        + " (SQLite), "
        + " / ".join(f"{s.server_cpu:.0%}" for s in postgres_runs)
        + " (PostgreSQL); latency by Little's law"
    )
    return [
        dataclasses.replace(
            rate, notes=[note], met=(rate.ratio or 0.0) >= HTTP_RATIO and errors == 0
        ),
        dataclasses.replace(latency, met=(latency.ratio or 99.0) <= HTTP_LATENCY),
    ]


# --- lag ---------------------------------------------------------------------------------


async def lag_figures(events: int, seconds: float, repeats: int) -> list[Figure]:
    """The lag section's measure, on a SQLite file on the disk."""
    with disk_directory() as directory:
        async with projections.scratch_store("sqlite", "", directory) as store:
            shop = projections.Shop(store, seed=7)
            await shop.run("sqlite: events", events=events)
            lag: dict[str, list[tuple[float, float]]] = {}
            for repeat in range(1, repeats + 1):
                for name, delays in (await projections.lag_samples(store, shop, seconds)).items():
                    pair = (percentile(delays, 0.5), percentile(delays, 0.99))
                    lag.setdefault(name, []).append(pair)
                print(
                    f"  sqlite lag [{repeat}/{repeats}]: "
                    + "; ".join(
                        f"{n} p50 {v[-1][0] * 1000:.1f} ms p99 {v[-1][1] * 1000:.1f} ms"
                        for n, v in lag.items()
                    ),
                    file=sys.stderr,
                )
    figures = []
    for name, pairs in lag.items():
        for label, index, limit in (("p50", 0, 5.0), ("p99", 1, 20.0)):
            values = [pair[index] * 1000 for pair in pairs]
            figures.append(
                Figure(
                    name=f"lag {label} append -> {name} commit, {projections.LAG_RATE}/s, "
                    "file on disk",
                    backend="sqlite",
                    unit="ms",
                    runs=values,
                    target=f"< {limit:g} ms",
                    met=statistics.median(values) < limit,
                )
            )
    return figures


async def figures(
    admin_url: str,
    seconds: float,
    warmup: float,
    http_seconds: float,
    lag_events: int,
    lag_seconds: float,
    repeats: int,
) -> list[Figure]:
    return [
        await append_figure(seconds, warmup, repeats),
        *await http_figures(admin_url, warmup, http_seconds, repeats),
        *await lag_figures(lag_events, lag_seconds, repeats),
    ]
