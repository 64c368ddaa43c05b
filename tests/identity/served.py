"""A real server with authentication on, its database, and real HS256 tokens for it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from gql import Client
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import text, update

from eventstore import create_engine
from readmodels.status.checkpoints import projection_checkpoints
from tests.schema.service import BACKENDS, REQUEST_TIMEOUT, Server, database_of, serving

SECRET = "a shared secret of the identity tests, 32+ bytes"
AUTH_ENV = {"AUTH_JWT_SECRET": SECRET}


def token(sub: str, *roles: str, ttl: timedelta = timedelta(hours=1), **claims: Any) -> str:
    """An HS256 token signed with the server's secret."""
    now = datetime.now(UTC)
    payload = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + ttl, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def bearer(sub: str, *roles: str, **options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, *roles, **options)}"}


@dataclass
class Served:
    server: Server
    database_url: str

    async def events_metadata(self, stream_id: str) -> list[dict[str, Any]]:
        """The metadata of a stream's events, read from the events table itself."""
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT metadata FROM events WHERE stream_id = :s ORDER BY version"),
                    {"s": stream_id},
                )
                return [_json(row[0]) for row in rows]
        finally:
            await engine.dispose()

    async def mark_failed(self, projection: str, error: str | None) -> None:
        """Put the projection's checkpoint in FAILED with `error`, as a poison event would
        leave it, or back in RUNNING for None."""
        engine = create_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(projection_checkpoints)
                    .where(projection_checkpoints.c.name == projection)
                    .values(state="RUNNING" if error is None else "FAILED", last_error=error)
                )
        finally:
            await engine.dispose()

    async def count_events(self) -> int:
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
        finally:
            await engine.dispose()


def _json(value: Any) -> dict[str, Any]:
    # PostgreSQL's json arrives decoded (the driver's codec), SQLite's JSON as its text
    decoded: dict[str, Any] = value if isinstance(value, dict) else json.loads(value)
    return decoded


def served_fixture(env: dict[str, str] | None = None) -> Any:
    """A module-scoped `served` fixture: one server with authentication per backend."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def served(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Served]:
        backend: str = request.param
        database_url = database_of(backend, request, tmp_path_factory)
        settings = {**AUTH_ENV, **(env or {})}
        with serving(backend, database_url, tmp_path_factory.mktemp("serve"), settings) as running:
            yield Served(running, database_url)

    return served


@contextlib.asynccontextmanager
async def websocket_as(
    server: Server,
    subprotocol: str,
    *,
    init_payload: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[Any]:
    transport = WebsocketsTransport(
        url=server.websocket_url,
        subprotocols=[subprotocol],
        init_payload=init_payload or {},
        headers=headers,
    )
    async with Client(transport=transport, execute_timeout=REQUEST_TIMEOUT) as session:
        yield session


async def post(
    server: Server, document: str, headers: dict[str, str] | None = None, **variables: Any
) -> httpx.Response:
    """A raw POST, for the status code and headers that gql does not show."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        return await client.post(
            server.graphql_url,
            json={"query": document, "variables": variables or None},
            headers=headers or {},
        )


def staff() -> dict[str, str]:
    return bearer("shop-staff", "staff")
