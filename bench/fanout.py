"""Subscription fan-out: from a projection's commit to the last of 1,000 websocket
subscribers receiving it, next to a plain websocket broadcast of a pre-encoded message.

The service's subscribers speak graphql-transport-ws and subscribe to
projectionUpdates(projections: ["order_views"]); a createOrder every 1/RATE s makes the
projection commit, and `updatedAt` (stamped by the server at the commit, same machine
clock) is the start. The baseline's subscribers hold a plain websocket to
bench.plain_app's /feed; a POST /broadcast at the same rate stamps a time and sends one
encoded message to all. Updates may be coalesced (a slow subscriber skips to the newest
position), so for each position published the end is when the last subscriber received
that position or a later one.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import json
import random
import re
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from websockets.asyncio.client import ClientConnection, connect

from bench import http, httpload
from bench.report import Figure, percentile
from bench.servers import caught_up

SUBSCRIBERS = 1000
RATE = 10  # updates per second
CONNECT_BATCH = 100
DRAIN_LIMIT_S = 60
PROJECTION_UPDATES = (
    'subscription { projectionUpdates(projections: ["order_views"]) { name position updatedAt } }'
)
_POSITION = re.compile(r'"position":\s*"?(\d+)')


@dataclass
class Subscriber:
    """What one client received: positions and receive times, in arrival order."""

    positions: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def received(self, position: int, at: float) -> None:
        self.positions.append(position)
        self.times.append(at)


@dataclass
class Audience:
    """The subscribers of one server, and the publication time of each position seen."""

    url: str
    graphql: bool
    subscribers: list[Subscriber] = field(default_factory=list)
    published: dict[int, float] = field(default_factory=dict)
    # the position awaited, how many subscribers hold it, and who waits
    closed: int = 0
    _target: int | None = None
    _holding: int = 0
    _everyone: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self, connection: ClientConnection, subscriber: Subscriber) -> None:
        try:
            await self._receive(connection, subscriber)
        finally:
            self.closed += 1

    async def _receive(self, connection: ClientConnection, subscriber: Subscriber) -> None:
        async for message in connection:
            at = time.time()
            text = message if isinstance(message, str) else message.decode()
            match = _POSITION.search(text)
            if match is None:
                continue  # not an update (a ping, a completion)
            position = int(match.group(1))
            before = subscriber.positions[-1] if subscriber.positions else -1
            subscriber.received(position, at)
            if position not in self.published:
                self.published[position] = _publication_time(text)
            target = self._target
            if target is not None and before < target <= position:
                self._holding += 1
                if self._holding == len(self.subscribers):
                    self._everyone.set()

    async def until_everyone_has(self, position: int) -> None:
        self._target, self._everyone = position, asyncio.Event()
        self._holding = sum(
            1 for s in self.subscribers if s.positions and s.positions[-1] >= position
        )
        try:
            if self._holding < len(self.subscribers):
                await asyncio.wait_for(self._everyone.wait(), DRAIN_LIMIT_S)
        except TimeoutError:
            raise RuntimeError(
                f"{self.url}: {self._holding} of {len(self.subscribers)} subscribers received "
                f"position {position} within {DRAIN_LIMIT_S} s; {self.closed} connections closed"
            ) from None
        self._target = None

    def delays(self, after: int) -> tuple[list[float], int]:
        """For each position published after `after`, seconds from its publication to the
        last subscriber holding it or a later one; and how many positions some subscriber
        never got."""
        delays, missed = [], 0
        for position, stamp in sorted(self.published.items()):
            if position <= after:
                continue
            last = 0.0
            for subscriber in self.subscribers:
                index = bisect.bisect_left(subscriber.positions, position)
                if index == len(subscriber.positions):
                    missed += 1
                    break
                last = max(last, subscriber.times[index])
            else:
                delays.append(last - stamp)
        return delays, missed


def _publication_time(text: str) -> float:
    payload = json.loads(text)
    if "sentAt" in payload:
        return float(payload["sentAt"])
    update = payload["payload"]["data"]["projectionUpdates"]
    return datetime.fromisoformat(update["updatedAt"]).timestamp()


async def _subscribe(audience: Audience, tasks: set[asyncio.Task[None]]) -> None:
    # no compression on either side: the server would deflate every copy of the message
    connection = await connect(
        audience.url,
        subprotocols=["graphql-transport-ws"] if audience.graphql else None,  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        open_timeout=60,
    )
    if audience.graphql:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await connection.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": PROJECTION_UPDATES}}
        await connection.send(json.dumps(subscribe))
    subscriber = Subscriber()
    audience.subscribers.append(subscriber)
    task = asyncio.create_task(audience.listen(connection, subscriber))
    tasks.add(task)
    task.add_done_callback(lambda _: asyncio.ensure_future(connection.close()))


async def connect_all(audience: Audience, tasks: set[asyncio.Task[None]]) -> None:
    for start in range(0, SUBSCRIBERS, CONNECT_BATCH):
        count = min(CONNECT_BATCH, SUBSCRIBERS - start)
        await asyncio.gather(*(_subscribe(audience, tasks) for _ in range(count)))


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * SUBSCRIBERS + 1024  # both audiences here, and the servers inherit it
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


@dataclass
class Sample:
    p50_ms: float
    p99_ms: float
    count: int
    missed: int
    client_cpu: float
    server_cpu: float


async def run(
    audience: Audience, trigger: Callable[[], bytes], server: http.Target, seconds: float
) -> Sample:
    """Publish RATE updates a second for `seconds` and measure their fan-out."""
    host, port = server.server.host, server.server.port
    # a first update reaches everyone: then every subscription is in place
    first = await _publish(host, port, trigger())
    await audience.until_everyone_has(first)
    cpu, server_cpu, started = time.process_time(), server.server.cpu_seconds(), time.time()
    last = first
    for index in range(int(seconds * RATE)):
        # pacing to a fixed rate, not synchronization
        await asyncio.sleep(max(0.0, started + index / RATE - time.time()))
        last = await _publish(host, port, trigger())
    await audience.until_everyone_has(last)
    elapsed = time.time() - started
    delays, missed = audience.delays(after=first)
    return Sample(
        p50_ms=percentile(delays, 0.5) * 1000,
        p99_ms=percentile(delays, 0.99) * 1000,
        count=len(delays),
        missed=missed,
        client_cpu=(time.process_time() - cpu) / elapsed,
        server_cpu=(server.server.cpu_seconds() - server_cpu) / elapsed,
    )


async def _publish(host: str, port: int, request: bytes) -> int:
    (body,) = await httpload.send_all(host, port, [request], 1)
    data = json.loads(body)["data"]
    return int(data["position"] if "position" in data else data["createOrder"]["position"])


async def figures(admin_url: str, seconds: float, repeats: int) -> list[Figure]:
    raise_open_files_limit()
    rng = random.Random(3)
    tasks: set[asyncio.Task[None]] = set()
    async with http.targets(admin_url) as (service, plain):
        audiences = {
            "service": Audience(f"ws://{service.server.host}:{service.server.port}/graphql", True),
            "plain": Audience(f"ws://{plain.server.host}:{plain.server.port}/feed", False),
        }
        for name, audience in audiences.items():
            print(f"  fanout: connecting {SUBSCRIBERS} subscribers to {name}", file=sys.stderr)
            await connect_all(audience, tasks)
        triggers: dict[str, tuple[Callable[[], bytes], http.Target]] = {
            "service": (lambda: http.create_requests(service, 1, rng)[0], service),
            "plain": (
                lambda: httpload.post(plain.server.host, plain.server.port, "/broadcast", {}),
                plain,
            ),
        }
        samples: dict[str, list[Sample]] = {"service": [], "plain": []}
        for repeat in range(1, repeats + 1):
            order = ["service", "plain"] if repeat % 2 else ["plain", "service"]
            for name in order:
                await caught_up(service.server)
                trigger, target = triggers[name]
                sample = await run(audiences[name], trigger, target, seconds)
                samples[name].append(sample)
                print(
                    f"  fanout [{repeat}/{repeats}] {name}: p50 {sample.p50_ms:.1f} ms, p99 "
                    f"{sample.p99_ms:.1f} ms over {sample.count} updates ({sample.missed} "
                    f"missed), load generator CPU {sample.client_cpu:.0%}, server CPU "
                    f"{sample.server_cpu:.0%}",
                    file=sys.stderr,
                )
        core = service.server.affinity()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return _figures(samples, seconds, core)


def _figures(samples: dict[str, list[Sample]], seconds: float, core: str) -> list[Figure]:
    runs, baseline = samples["service"], samples["plain"]
    note = (
        f"fanout: {SUBSCRIBERS} subscribers each, {RATE} updates/s for {seconds:g} s, servers "
        f"on CPU {core}; load generator CPU "
        + " / ".join(f"{s.client_cpu:.0%}" for s in runs)
        + " (service), "
        + " / ".join(f"{s.client_cpu:.0%}" for s in baseline)
        + " (plain); updates some subscriber never got: "
        + f"{sum(s.missed for s in runs)} / {sum(s.missed for s in baseline)}"
    )
    p50 = Figure(
        name=f"fan-out p50 commit -> last of {SUBSCRIBERS} subscribers",
        backend="postgres",
        unit="ms",
        runs=[s.p50_ms for s in runs],
        baseline_runs=[s.p50_ms for s in baseline],
        notes=[note],
    )
    p99 = Figure(
        name=f"fan-out p99 commit -> last of {SUBSCRIBERS} subscribers",
        backend="postgres",
        unit="ms",
        runs=[s.p99_ms for s in runs],
        baseline_runs=[s.p99_ms for s in baseline],
        target="< 100 ms and ratio <= 3",
    )
    missed = sum(s.missed for s in runs)
    met = p99.median < 100 and (p99.ratio or 0.0) <= 3 and missed == 0
    return [p50, dataclasses.replace(p99, met=met)]
