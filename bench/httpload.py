"""A minimal HTTP/1.1 keep-alive load generator: pre-encoded requests, closed loop.

A Python HTTP client library spends more CPU per request than the servers under test, so
this one only writes bytes prepared beforehand and parses the status line and
Content-Length of each answer. A 200 answer whose body holds no `"errors"` key is ok;
anything else counts as an error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast


def post(host: str, port: int, path: str, payload: Any) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


@dataclass
class Tally:
    ok: int = 0
    errors: int = 0
    first_error: str | None = None
    bodies: list[bytes] | None = None  # kept only when asked for
    ran_out: bool = False  # a connection found no request left

    def record(self, status: int, body: bytes) -> None:
        if status == 200 and b'"errors"' not in body:
            self.ok += 1
            if self.bodies is not None:
                self.bodies.append(body)
            return
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"HTTP {status}: {body[:300].decode(errors='replace')}"


class _Connection(asyncio.Protocol):
    def __init__(self, requests: Iterator[bytes], tally: Tally, closed: asyncio.Future[None]):
        self._requests, self._tally, self._closed = requests, tally, closed
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but have the same methods
        self._transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        request = next(self._requests, None)
        if request is None:
            self._tally.ran_out = True
            self._transport.close()
        else:
            self._transport.write(request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self._buffer[:end].lower()
        marker = head.find(b"content-length:")
        if marker < 0:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        line_end = head.find(b"\r\n", marker)
        length = int(head[marker + 15 : line_end if line_end >= 0 else None])
        if len(self._buffer) < end + 4 + length:
            return
        body = self._buffer[end + 4 : end + 4 + length]
        self._buffer = self._buffer[end + 4 + length :]
        self._tally.record(int(head[9:12]), body)
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closed.done():
            self._closed.set_result(None)


@dataclass
class Load:
    """Connections each sending the next request as soon as the previous one is answered."""

    host: str
    port: int
    connections: int
    tally: Tally = field(default_factory=Tally)
    _transports: list[asyncio.BaseTransport] = field(default_factory=list)
    _closed: list[asyncio.Future[None]] = field(default_factory=list)

    async def start(self, requests: Iterator[bytes]) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.connections):
            closed: asyncio.Future[None] = loop.create_future()
            transport, _ = await loop.create_connection(
                partial(_Connection, requests, self.tally, closed),
                self.host,
                self.port,
            )
            self._transports.append(transport)
            self._closed.append(closed)

    async def finished(self) -> None:
        """Until every connection has run out of requests (or was closed)."""
        await asyncio.gather(*self._closed)

    async def stop(self) -> None:
        for transport in self._transports:
            transport.close()
        await self.finished()


async def send_all(host: str, port: int, requests: list[bytes], connections: int) -> list[bytes]:
    """Send every request; return the bodies of the ok answers (errors raise)."""
    load = Load(host, port, connections, Tally(bodies=[]))
    await load.start(iter(requests))
    await load.finished()
    if load.tally.errors:
        raise RuntimeError(f"{load.tally.errors} requests failed: {load.tally.first_error}")
    assert load.tally.bodies is not None
    return load.tally.bodies
