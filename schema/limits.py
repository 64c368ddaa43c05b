"""Request limits enforced before GraphQL sees a request."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
_TOO_DEEP = "request JSON is nested too deeply"


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Answers 413 to an HTTP request whose body passes `limit` bytes, declared or streamed,
    and 400 to a JSON body the GraphQL view would fail on with a 500: not UTF-8, not an
    object or a list, or nested too deep to decode. A websocket message nested too deep
    closes its connection with 4400."""

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
                await send({"type": "websocket.close", "code": 4400, "reason": _TOO_DEEP})
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        if (
            scope["method"] == "POST"
            and b"application/json" in headers.get(b"content-type", b"").lower()
        ):
            try:
                body = await _read_body(receive, self.limit)
            except BodyTooLarge:
                await _too_large(send, self.limit)
                return
            if body is None:
                return  # the client went away
            problem = _unreadable_json(body)
            if problem is not None:
                await _refuse(send, 400, problem, "BAD_REQUEST")
                return
            receive = _replay(body, receive)
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
        except RecursionError:
            # GET's `variables` nested too deep to decode: the view fails before any resolver
            if started:
                raise
            await _refuse(send, 400, _TOO_DEEP, "BAD_REQUEST")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body (None if the client disconnected first), or BodyTooLarge."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the client's own messages."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _unreadable_json(body: bytes) -> str | None:
    """Why the GraphQL view could not take this JSON body, or None when it can (or when it
    is no JSON at all, which the view itself refuses with a 400)."""
    try:
        payload = json.loads(body)
    except RecursionError:
        return _TOO_DEEP
    except UnicodeDecodeError:
        return "request body is not UTF-8"
    except ValueError:
        return None
    if not isinstance(payload, dict | list):
        return "request body must be a JSON object"
    return None


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, f"request body is larger than {limit} bytes", "PAYLOAD_TOO_LARGE")


async def _refuse(send: Send, status: int, message: str, code: str) -> None:
    error = {"message": message, "extensions": {"code": code}}
    body = json.dumps({"errors": [error]}).encode()
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
