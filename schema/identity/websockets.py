"""A websocket connection's caller: the token of its connection_init (or of the upgrade
request), the principal's count of connections, and the token's expiry, at which the
connection is closed.

Both protocols refuse every operation before the connection is acknowledged (Strawberry
closes with 4401), and acknowledge only after `admit` accepted: the legacy protocol offers
no way around the check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.websockets import WebSocket, WebSocketState
from strawberry.exceptions import ConnectionRejectionError

from schema.context import Context

log = logging.getLogger(__name__)

# graphql-transport-ws's code for a refused connection, used for an expired token as well
FORBIDDEN = 4403


def authorization_of(params: object, upgrade: Mapping[str, str]) -> str | None:
    """The `Authorization` value of connection_init's payload, its key matched regardless of
    case as Apollo and graphql-ws clients send it, else the upgrade request's header."""
    if isinstance(params, Mapping):
        for key, value in params.items():
            if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
                return value
    return upgrade.get("authorization")


async def admit(context: Context) -> None:
    """Identify the connection's caller, or refuse it (ConnectionRejectionError)."""
    websocket = context.request
    assert isinstance(websocket, WebSocket), "only websocket connections are admitted"
    authentication = context.services.authentication
    caller = await authentication.caller(
        authorization_of(context.connection_params, websocket.headers)
    )
    if caller.actor is None:
        if caller.refused is not None:
            log.info("refused a websocket's bearer token: %s", caller.refused)
        raise ConnectionRejectionError({"message": "a valid bearer token is required"})
    if not authentication.admit_connection(caller):
        raise ConnectionRejectionError({"message": "too many connections for this principal"})
    context.caller = caller
    if caller.expires_at is not None:
        context.expiry = asyncio.create_task(_close_at(websocket, caller.expires_at))


def end(context: Context) -> None:
    """The connection has ended: release its principal's count and its expiry timer."""
    if context.expiry is not None:
        context.expiry.cancel()
    context.services.authentication.release_connection(context.caller)


async def _close_at(websocket: WebSocket, expires_at: datetime) -> None:
    await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
    if websocket.application_state is WebSocketState.CONNECTED:
        log.info("closing a websocket whose bearer token expired")
        await websocket.close(code=FORBIDDEN, reason="token expired")
