"""Request limits enforced before GraphQL sees a request."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
TOO_DEEP = "request JSON is nested too deeply"


class BodyTooLarge(Exception):
    pass


class UnreadableRequest(Exception):
    """Raised by the view on JSON it cannot read; answered with 400 BAD_REQUEST here."""


class BodySizeLimit:
    """Answers 413 to an HTTP request whose body passes `limit` bytes, declared or streamed,
    without holding the body. A websocket message nested too deep to decode closes its
    connection with 4400, and an HTTP request whose JSON the view cannot read gets 400."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            except RecursionError:
                # a message nested too deep to decode: the GraphQL handler has already ended
                # its operations; close as graphql-transport-ws closes on a message it cannot
                # read, rather than as a server fault (1011 and a logged traceback)
                await send({"type": "websocket.close", "code": 4400, "reason": TOO_DEEP})
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, self.limit)
        except UnreadableRequest as refused:
            if started:
                raise
            await _refuse(send, 400, str(refused), "BAD_REQUEST")


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, f"request body is larger than {limit} bytes", "PAYLOAD_TOO_LARGE")


async def _refuse(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
