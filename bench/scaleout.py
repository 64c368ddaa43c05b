"""Scale-out on PostgreSQL: createOrder over HTTP against 1, 2 and 4 API processes.

    python -m bench.scaleout [--seconds 3] [--warmup 1] [--repeats 3] [--processes 1,2,4]
        [--postgres-url URL]

Each cell runs N `cqrs-orders serve --projections off` processes on ports of their own,
with the load generator's 32 keep-alive connections spread evenly over them (its round
robin), next to one `cqrs-orders project` worker and one more API process, the observer,
that takes no load and holds a projectionUpdates subscription. Nothing is pinned: the
question is what N processes get out of the machine's cores, which PostgreSQL, the worker
and the load generator share with them. Each API process gets a small connection budget
(connection_budget) so that five of them fit the server's max_connections.

The lag is measured under that load: a probe sends PROBE_RATE createOrder a second on a
connection of its own to the API processes in turn, and for each answer takes the time
from the answer (the append has committed) to the observer's subscriber holding an update
at that position or beyond of both default projections; an update that came first counts
as no lag. Every cell starts from caught-up projections; N processes are started afresh
for every repetition, and the cells take turns, so drift spreads over all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from websockets.asyncio.client import ClientConnection, connect

from bench import httpload
from bench.database import default_admin_url, scratch_database, sqlalchemy_url
from bench.http import CREATE_ORDER, order_input
from bench.report import cpu_model, git_revision, load_average, percentile
from bench.servers import (
    CATCH_UP_LIMIT_S,
    HOST,
    START_LIMIT_S,
    Server,
    caught_up,
    cpu_seconds,
    free_port,
    serve,
)
from eventstore import create_engine
from eventstore.database import cancel_and_wait
from migrations import upgrade

CONNECTIONS = 32
MAX_RATE = 6000  # pre-encoded createOrder requests per second of a cell: more than served
PROBE_RATE = 20
# a command uses a pool connection briefly, to read its stream (appends have their own)
POOL_SIZE = 2
DEFAULT_APPEND_CONNECTIONS = 16
PROJECTIONS = ("order_views", "customer_summaries")
SUBSCRIBE = (
    "subscription { projectionUpdates(projections: "
    '["order_views", "customer_summaries"]) { name position } }'
)


@dataclass
class Observed:
    """Per projection, the positions the subscriber received and when, in arrival order."""

    positions: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PROJECTIONS})
    times: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PROJECTIONS})

    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, name: str, position: int, at: float) -> None:
        self.positions[name].append(position)
        self.times[name].append(at)
        self.arrived.set()

    async def until(self, position: int, limit: float) -> None:
        """Until every projection's update at `position` or beyond has arrived."""
        async with asyncio.timeout(limit):
            while self.reached(position) is None:
                self.arrived.clear()
                await self.arrived.wait()

    def reached(self, position: int) -> float | None:
        """When every projection's update at `position` or beyond had arrived, if it has."""
        arrivals = []
        for name in PROJECTIONS:
            # positions only grow per projection (the hub drops older statuses)
            index = bisect.bisect_left(self.positions[name], position)
            if index == len(self.positions[name]):
                return None
            arrivals.append(self.times[name][index])
        return max(arrivals)


@dataclass(frozen=True, slots=True)
class Sample:
    per_second: float
    errors: int
    first_error: str | None
    lags_ms: list[float]
    unseen: int  # probes whose position the subscriber never received
    api_cpu: float  # cores, all API processes together
    worker_cpu: float
    postgres_cpu: float  # the backends of the benchmark's database
    client_cpu: float
    machine_busy: float  # of all cores

    def ms_per_command(self, cores: float) -> float:
        return cores / self.per_second * 1000 if self.per_second else 0.0


def api_process(name: str, env: dict[str, str]) -> AbstractAsyncContextManager[Server]:
    """An API process on a port of its own, once it answers; not pinned, unlike the other
    sections' servers: here the processes share both cores."""
    port = free_port()
    return serve(name, api_argv(port), env, port, pin=False)


def connection_budget(concurrent_requests: int) -> dict[str, str]:
    """Settings that keep an API process to the connections its share of the load can use:
    the defaults (up to 39 a process) times six processes would pass the server's
    max_connections (100 by default), which other databases on the server share. Appends
    keep as many connections as requests in flight (fewer ran slower in a trial: commits
    that wait together share a WAL flush)."""
    appends = min(DEFAULT_APPEND_CONNECTIONS, max(1, concurrent_requests))
    return {"DATABASE_POOL_SIZE": str(POOL_SIZE), "APPEND_CONNECTIONS": str(appends)}


def api_argv(port: int) -> list[str]:
    serve = ["serve", "--host", HOST, "--port", str(port), "--projections", "off"]
    return [sys.executable, "-m", "schema.cli", *serve]


@contextlib.asynccontextmanager
async def api_processes(count: int, env: dict[str, str]) -> AsyncIterator[list[Server]]:
    env = {**env, **connection_budget(CONNECTIONS // count)}
    async with contextlib.AsyncExitStack() as stack:
        # started together: each spends its start-up importing, on a core of its own if free
        yield list(
            await asyncio.gather(
                *(
                    stack.enter_async_context(api_process(f"api-{n}", env))
                    for n in range(1, count + 1)
                )
            )
        )


async def subscribe(observer: Server) -> ClientConnection:
    connection = await connect(
        f"ws://{observer.host}:{observer.port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
    )
    await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
    if json.loads(await connection.recv()).get("type") != "connection_ack":
        raise RuntimeError("the observer did not acknowledge the websocket")
    await connection.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
    )
    return connection


async def listen(connection: ClientConnection, observed: Observed) -> None:
    async for message in connection:
        at = time.monotonic()
        payload = json.loads(message)
        if payload.get("type") == "next":
            update = payload["payload"]["data"]["projectionUpdates"]
            observed.record(update["name"], int(update["position"]), at)


class Probe:
    """createOrder at a steady rate, each answer's position and arrival time."""

    def __init__(self, apis: list[Server], rng: random.Random) -> None:
        self._apis, self._rng = apis, rng
        self.answers: list[tuple[int, float]] = []
        self.errors: list[str] = []

    async def run(self, seconds: float) -> None:
        streams = [await asyncio.open_connection(api.host, api.port) for api in self._apis]
        started = time.monotonic()
        try:
            for index in range(int(seconds * PROBE_RATE)):
                # pacing to a fixed rate, not synchronization
                await asyncio.sleep(max(0.0, started + index / PROBE_RATE - time.monotonic()))
                api = self._apis[index % len(self._apis)]
                reader, writer = streams[index % len(streams)]
                payload = {"query": CREATE_ORDER, "variables": {"input": order_input(self._rng)}}
                writer.write(httpload.post(api.host, api.port, "/graphql", payload))
                answer = json.loads(await _answer(reader))
                if answer.get("errors"):
                    self.errors.append(f"{api.name}: {answer['errors']}\n{api.log_tail(5)}")
                    continue
                position = int(answer["data"]["createOrder"]["position"])
                self.answers.append((position, time.monotonic()))
        finally:
            for _, writer in streams:
                writer.close()


async def _answer(reader: asyncio.StreamReader) -> bytes:
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    return await reader.readexactly(length)


async def backend_cpu(database: asyncpg.Connection) -> dict[int, float]:
    """CPU seconds so far of every backend of the database (on this machine), by pid."""
    pids = await database.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    )
    seconds = {}
    for row in pids:
        with contextlib.suppress(OSError):
            seconds[row["pid"]] = cpu_seconds(row["pid"])
    return seconds


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


async def measure(
    apis: list[Server],
    worker: Server,
    database: asyncpg.Connection,
    observed: Observed,
    rng: random.Random,
    warmup: float,
    seconds: float,
) -> Sample:
    per_api = [CONNECTIONS // len(apis)] * len(apis)
    count = int(MAX_RATE * (warmup + seconds) / len(apis))
    loads = []
    for api, connections in zip(apis, per_api, strict=True):
        requests = [
            httpload.post(
                api.host,
                api.port,
                "/graphql",
                {"query": CREATE_ORDER, "variables": {"input": order_input(rng)}},
            )
            for _ in range(count)
        ]
        load = httpload.Load(api.host, api.port, connections)
        await load.start(iter(requests))
        loads.append(load)
    await asyncio.sleep(warmup)  # the window is time, not an event to wait for
    ok = sum(load.tally.ok for load in loads)
    errors = sum(load.tally.errors for load in loads)
    cpu, machine = time.process_time(), _machine_ticks()
    api_cpu, worker_cpu = sum(a.cpu_seconds() for a in apis), worker.cpu_seconds()
    backends = await backend_cpu(database)
    started = time.perf_counter()
    probe = Probe(apis, rng)
    await probe.run(seconds)
    elapsed = time.perf_counter() - started
    busy, total = _machine_ticks()
    # a backend that started in the window counts from zero; one that ended is missed
    postgres_cpu = sum(
        spent - backends.get(pid, 0.0) for pid, spent in (await backend_cpu(database)).items()
    )
    sample_ok = sum(load.tally.ok for load in loads) - ok
    sample_errors = sum(load.tally.errors for load in loads) - errors
    api_cpu = (sum(a.cpu_seconds() for a in apis) - api_cpu) / elapsed
    worker_cpu = (worker.cpu_seconds() - worker_cpu) / elapsed
    client_cpu = (time.process_time() - cpu) / elapsed
    for load in loads:
        await load.stop()
    if any(load.tally.ran_out for load in loads):
        raise RuntimeError("the load generator ran out of pre-encoded requests: raise MAX_RATE")
    lags, unseen = await _lags(probe.answers, observed)
    return Sample(
        per_second=sample_ok / elapsed,
        errors=sample_errors + len(probe.errors),
        first_error=next(
            (load.tally.first_error for load in loads if load.tally.errors),
            probe.errors[0] if probe.errors else None,
        ),
        lags_ms=lags,
        unseen=unseen,
        api_cpu=api_cpu,
        worker_cpu=worker_cpu,
        postgres_cpu=postgres_cpu / elapsed,
        client_cpu=client_cpu,
        machine_busy=(busy - machine[0]) / (total - machine[1]),
    )


async def _lags(answers: list[tuple[int, float]], observed: Observed) -> tuple[list[float], int]:
    """Lag per probe, in ms; waits (bounded) for the updates the load left still to come."""
    if answers:
        with contextlib.suppress(TimeoutError):
            await observed.until(max(p for p, _ in answers), CATCH_UP_LIMIT_S)
    lags, unseen = [], 0
    for position, answered in answers:
        arrived = observed.reached(position)
        if arrived is None:
            unseen += 1
        else:
            lags.append(max(0.0, arrived - answered) * 1000)
    return lags, unseen


async def run(
    admin_url: str, counts: list[int], warmup: float, seconds: float, repeats: int
) -> dict[int, list[Sample]]:
    async with scratch_database(admin_url) as url:
        engine = create_engine(sqlalchemy_url(url))
        await upgrade(engine)
        await engine.dispose()
        env = {"DATABASE_URL": sqlalchemy_url(url), "GRAPHIQL": "off", "PYTHONUNBUFFERED": "1"}
        worker_argv = [sys.executable, "-m", "schema.cli", "project"]
        observer_env = {**env, **connection_budget(1)}
        database = await asyncpg.connect(url)
        try:
            async with (
                serve("worker", worker_argv, env, None, pin=False) as worker,
                api_process("observer", observer_env) as observer,
            ):
                bench = Bench(env, worker, observer, database, random.Random(7))
                async with bench.subscribed():
                    return await bench.cells(counts, warmup, seconds, repeats)
        finally:
            await database.close()


@dataclass
class Bench:
    env: dict[str, str]
    worker: Server
    observer: Server
    database: asyncpg.Connection
    rng: random.Random
    observed: Observed = field(default_factory=Observed)

    @contextlib.asynccontextmanager
    async def subscribed(self) -> AsyncIterator[None]:
        connection = await subscribe(self.observer)
        listener = asyncio.create_task(listen(connection, self.observed))
        try:
            # the subscription is live once an update has come through it
            live = Probe([self.observer], self.rng)
            await live.run(1 / PROBE_RATE)
            await self.observed.until(live.answers[0][0], START_LIMIT_S)
            yield
        finally:
            await cancel_and_wait([listener])
            await connection.close()

    async def cells(
        self, counts: list[int], warmup: float, seconds: float, repeats: int
    ) -> dict[int, list[Sample]]:
        samples: dict[int, list[Sample]] = {n: [] for n in counts}
        for repeat in range(1, repeats + 1):
            for count in counts if repeat % 2 else counts[::-1]:
                await caught_up(self.observer)
                async with api_processes(count, self.env) as apis:
                    sample = await measure(
                        apis, self.worker, self.database, self.observed, self.rng, warmup, seconds
                    )
                samples[count].append(sample)
                _progress(repeat, repeats, count, sample)
        await caught_up(self.observer)
        return samples


def _progress(repeat: int, repeats: int, count: int, sample: Sample) -> None:
    print(
        f"  scaleout [{repeat}/{repeats}] {count} API processes: {sample.per_second:,.0f} "
        f"createOrder/s, {sample.errors} errors; lag p50 "
        f"{_lag(sample, 0.5):.1f} ms p99 {_lag(sample, 0.99):.1f} ms "
        f"({len(sample.lags_ms)} probes, {sample.unseen} unseen); cores: APIs "
        f"{sample.api_cpu:.2f}, PostgreSQL {sample.postgres_cpu:.2f}, worker "
        f"{sample.worker_cpu:.2f}, load generator {sample.client_cpu:.2f}; machine "
        f"{sample.machine_busy:.0%} busy",
        file=sys.stderr,
    )
    if sample.errors:
        print(f"  first error: {sample.first_error}", file=sys.stderr)


def _lag(sample: Sample, share: float) -> float:
    return percentile(sample.lags_ms, share) if sample.lags_ms else float("nan")


def table(samples: dict[int, list[Sample]]) -> list[str]:
    lines = [
        "| API processes | createOrder/s (median) | runs | vs 1 "
        "| CPU ms per command: APIs + PostgreSQL + worker | cores used by them "
        "| machine busy | lag p50 ms | lag p99 ms | errors |",
        "|---:|---:|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    base = statistics.median(s.per_second for s in samples[min(samples)])
    for count, runs in samples.items():
        rate = statistics.median(s.per_second for s in runs)
        api = statistics.median(s.ms_per_command(s.api_cpu) for s in runs)
        postgres = statistics.median(s.ms_per_command(s.postgres_cpu) for s in runs)
        worker = statistics.median(s.ms_per_command(s.worker_cpu) for s in runs)
        cores = statistics.median(s.api_cpu + s.postgres_cpu + s.worker_cpu for s in runs)
        busy = statistics.median(s.machine_busy for s in runs)
        p50 = statistics.median(_lag(s, 0.5) for s in runs)
        p99 = statistics.median(_lag(s, 0.99) for s in runs)
        lines.append(
            f"| {count} | {rate:,.0f} | {' / '.join(f'{s.per_second:,.0f}' for s in runs)} "
            f"| {rate / base:.2f} | {api:.2f} + {postgres:.2f} + {worker:.2f} "
            f"= {api + postgres + worker:.2f} | {cores:.2f} | {busy:.0%} | {p50:.1f} "
            f"| {p99:.1f} | {sum(s.errors + s.unseen for s in runs)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", default="1,2,4", help="API process counts")
    parser.add_argument("--postgres-url", default=default_admin_url())
    arguments = parser.parse_args()
    counts = [int(n) for n in arguments.processes.split(",")]
    print(
        f"scaleout: {os.cpu_count()} CPUs ({cpu_model()}), load average {load_average()}, "
        f"revision {git_revision()}",
        file=sys.stderr,
    )
    samples = asyncio.run(
        run(arguments.postgres_url, counts, arguments.warmup, arguments.seconds, arguments.repeats)
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"Scale-out, {stamp}, `--seconds {arguments.seconds:g} --repeats {arguments.repeats}`, "
        f"{os.cpu_count()} CPUs, load average after: {load_average()}, revision {git_revision()}"
    )
    print()
    print("\n".join(table(samples)))


if __name__ == "__main__":
    main()
