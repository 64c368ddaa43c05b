"""The outermost ASGI middleware: every request's id, its access line, and the count of open
websocket connections by subprotocol.

A request's `X-Request-ID` is kept if it is a plain token (up to 128 letters, digits and
`._:/+=-`; anything else could forge log lines) and otherwise replaced by a new one; either
way the response (or the websocket's accept) carries it back.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.observability import log_context

HEADER = b"x-request-id"
_ACCEPTABLE_ID = re.compile(rb"[\w.:/+=-]{1,128}", re.ASCII)

access_log = logging.getLogger("schema.access")


class RequestSignals:
    def __init__(self, app: ASGIApp, *, access: bool, websockets: Gauge | None) -> None:
        self._app = app
        self._access = access
        self._websockets = websockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        header = (HEADER, request_id.encode())
        with log_context.scope(request_id=request_id):
            if kind == "http":
                await self._http(scope, receive, send, header)
            else:
                await self._websocket(scope, receive, send, header)

    async def _http(
        self, scope: Scope, receive: Receive, send: Send, header: tuple[bytes, bytes]
    ) -> None:
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            if self._access:
                # the path only: a GET's query string may hold a document's variables
                access_log.info(
                    "%s %s %d %.1f ms",
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                )

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, header: tuple[bytes, bytes]
    ) -> None:
        counted: Any = None

        async def send_with_id(message: Message) -> None:
            nonlocal counted
            if message["type"] == "websocket.accept":
                message = {**message, "headers": [*message.get("headers", ()), header]}
                if self._websockets is not None:
                    counted = self._websockets.labels(message.get("subprotocol") or "none")
                    counted.inc()
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            if counted is not None:
                counted.dec()
            if self._access:
                access_log.info("WEBSOCKET %s closed", scope["path"])


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _ACCEPTABLE_ID.fullmatch(value):
            return str(value.decode())
    return uuid.uuid4().hex
