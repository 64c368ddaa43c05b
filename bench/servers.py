"""Server processes under test: started pinned, awaited until they answer, stopped after."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.pinning import pinned, server_core

HOST = "127.0.0.1"
CATCH_UP_LIMIT_S = 120
START_LIMIT_S = 60


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    host: str
    port: int
    pid: int
    log: IO[bytes]

    def log_tail(self, lines: int = 40) -> str:
        self.log.seek(0)
        return "\n".join(self.log.read().decode(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def affinity(self) -> str:
        return ",".join(str(core) for core in sorted(os.sched_getaffinity(self.pid)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def fetch(host: str, port: int, path: str) -> tuple[int, bytes]:
    """One GET on a fresh connection (for readiness and health, not for load)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head[9:12]), body


@contextlib.asynccontextmanager
async def serve(
    name: str, argv: list[str], env: dict[str, str], port: int | None, *, pin: bool = True
) -> AsyncIterator[Server]:
    """Run argv (pinned to the server core unless `pin` is off) until it answers GET
    /health on `port` (at once for None: a process without HTTP), then SIGTERM it."""
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            *(pinned(argv, server_core()) if pin else argv),
            # the service as earlier runs measured it: without authentication (AUTH=off)
            env={**os.environ, "AUTH": "off", **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        server = Server(name, HOST, port or 0, process.pid, log)
        try:
            if port is not None:
                await _ready(server, process)
            yield server
        finally:
            await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _ready(server: Server, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(
                f"{server.name} exited with {process.returncode}:\n{server.log_tail()}"
            )
        with contextlib.suppress(OSError):
            status, _ = await fetch(server.host, server.port, "/health")
            if status == 200:
                return
        await asyncio.sleep(0.1)  # polling a process that has no other way to say it is up
    raise RuntimeError(
        f"{server.name} did not answer within {START_LIMIT_S} s:\n{server.log_tail()}"
    )


def service_argv(port: int) -> list[str]:
    """`cqrs-orders serve` with the projections in the process, one uvicorn process."""
    serve = ["serve", "--host", HOST, "--port", str(port), "--workers", "1", "--projections", "on"]
    return [sys.executable, "-m", "schema.cli", *serve]


async def caught_up(server: Server) -> None:
    """Until the service's projections have applied the whole log (its /health says lag 0),
    so that a measurement does not share the server's core with a catch-up."""
    deadline = time.monotonic() + CATCH_UP_LIMIT_S
    while True:
        status, body = await fetch(server.host, server.port, "/health")
        lags = [p["lag"] for p in json.loads(body)["projections"].values()] if status == 200 else []
        if lags and not any(lags):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name}: projections not caught up: {body[:300]!r}")
        await asyncio.sleep(0.05)
