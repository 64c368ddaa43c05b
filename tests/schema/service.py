"""A real `cqrs-orders serve` process (uvicorn) on SQLite or PostgreSQL, and clients for it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import sqlite_url

BACKENDS = ("sqlite", "postgres")
# graphql-transport-ws (graphql-ws.js) and the legacy graphql-ws (subscriptions-transport-ws)
SUBPROTOCOLS = ("graphql-transport-ws", "graphql-ws")
# Bounds, not pauses: each wait ends as soon as what it waits for happens.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
_RUNNING = re.compile(r"Uvicorn running on (http://\S+)")
# Settings the server reads from the environment: a test sets them explicitly or not at all.
AUTH_SETTINGS = (
    "AUTH",
    "AUTH_JWT_SECRET",
    "AUTH_JWKS_URL",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_ROLES_CLAIM",
    "AUTH_JWKS_CACHE_SECONDS",
)
# the signals' settings (schema/observability/settings.py, OpenTelemetry's, the metrics' directory)
SIGNAL_SETTINGS = (
    "METRICS",
    "LOG_FORMAT",
    "ACCESS_LOG",
    "READY_MAX_LAG_SECONDS",
    "PROMETHEUS_MULTIPROC_DIR",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)
_SETTINGS = (
    "DATABASE_URL",
    "GRAPHQL_INTROSPECTION",
    "GRAPHIQL",
    "PERSISTED_OPERATIONS",
    "PROJECTIONS",
    *AUTH_SETTINGS,
    *SIGNAL_SETTINGS,
)


@dataclass
class Server:
    """A running server: its base URL, and every line it has logged so far."""

    backend: str
    base_url: str
    lines: list[str] = field(default_factory=list)

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def websocket_url(self) -> str:
        return self.graphql_url.replace("http://", "ws://", 1)


@contextlib.contextmanager
def serving(
    backend: str,
    database_url: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    arguments: Sequence[str] = (),
) -> Iterator[Server]:
    """`python -m schema.cli serve --port 0 [arguments]` until the block ends, then SIGTERM;
    the server must exit 0 with no traceback in its log."""
    environment = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    environment |= {"DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    # the suites that test other things serve with authentication off, said explicitly (as
    # PostgreSQL requires); a test of identity passes its own AUTH_* settings
    if not any(name in AUTH_SETTINGS for name in env or {}):
        environment["AUTH"] = "off"
    environment |= env or {}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "schema.cli", "serve", "--host", "127.0.0.1", "--port", "0"),
            *arguments,
        ],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found: list[str] = []
    started = threading.Event()

    def read_output() -> None:
        # Drains the pipe for the server's whole life (a full pipe would block its logging).
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if not found and (running := _RUNNING.search(line)):
                found.append(running.group(1))
                started.set()
        started.set()  # output ended: the server died before (or after) it started

    reader = threading.Thread(target=read_output, name=f"serve-{backend}-log", daemon=True)
    reader.start()
    try:
        if not started.wait(START_TIMEOUT) or not found:
            process.kill()
            process.wait(STOP_TIMEOUT)
            reader.join(STOP_TIMEOUT)
            pytest.fail(f"the {backend} server did not start:\n{excerpt(lines)}")
        server = Server(backend=backend, base_url=found[0], lines=lines)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
            raise
        finally:
            reader.join(STOP_TIMEOUT)
            assert process.stdout is not None
            process.stdout.close()
    log = "".join(lines)
    assert code == 0, f"the {backend} server exited with {code}:\n{excerpt(lines)}"
    assert "Traceback" not in log, f"the {backend} server logged a traceback:\n{excerpt(lines)}"


def excerpt(lines: list[str], context: int = 60) -> str:
    """The log around its first traceback, or its end: all of it may be thousands of lines."""
    start = next((n for n, line in enumerate(lines) if "Traceback" in line), len(lines))
    start = max(0, min(start - 5, len(lines) - context))
    return "".join(lines[start : start + context])


def database_of(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The database a module's server of `backend` serves: a SQLite file of its own, or the
    run's PostgreSQL database."""
    if backend == "sqlite":
        return sqlite_url(tmp_path_factory.mktemp("sqlite"))
    url: str = request.getfixturevalue("postgres_url")
    return url


def server_fixture(env: Mapping[str, str] | None = None) -> Callable[..., Iterator[Server]]:
    """A module-scoped `server` fixture, one server per backend: a test module assigns it,
    `server = server_fixture()`, and its tests run once on SQLite and once on PostgreSQL.

    The PostgreSQL server lives within the module, so no other module's fixture empties the
    database under it; the database may hold other tests' data, so tests use unique ids."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def server(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Server]:
        backend: str = request.param
        database_url = database_of(backend, request, tmp_path_factory)
        with serving(backend, database_url, tmp_path_factory.mktemp("serve"), env) as running:
            yield running

    return server


class Api:
    """A gql session over HTTP: `data` for answers that must succeed, `error` for the first
    error of one that must fail."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def result(self, document: str, **variables: Any) -> Any:
        """The whole execution result (data, errors, extensions)."""
        request = GraphQLRequest(document, variable_values=variables or None)
        return await self._session.execute(request, get_execution_result=True)

    async def data(self, document: str, **variables: Any) -> dict[str, Any]:
        result = await self.result(document, **variables)
        data: dict[str, Any] = result.data
        return data

    async def error(self, document: str, **variables: Any) -> dict[str, Any]:
        with pytest.raises(TransportQueryError) as raised:
            await self.result(document, **variables)
        errors = raised.value.errors
        assert errors, raised.value
        first: dict[str, Any] = errors[0]
        return first


@contextlib.asynccontextmanager
async def http_api(server: Server, headers: Mapping[str, str] | None = None) -> AsyncIterator[Api]:
    """A client of the server over HTTP; `headers` go with every request (a bearer token)."""
    transport = HTTPXAsyncTransport(
        url=server.graphql_url, headers=dict(headers or {}), timeout=REQUEST_TIMEOUT
    )
    async with Client(transport=transport, execute_timeout=REQUEST_TIMEOUT) as session:
        yield Api(session)


@contextlib.asynccontextmanager
async def websocket_session(server: Server, subprotocol: str) -> AsyncIterator[Any]:
    transport = WebsocketsTransport(url=server.websocket_url, subprotocols=[subprotocol])
    async with Client(transport=transport, execute_timeout=REQUEST_TIMEOUT) as session:
        assert transport.subprotocol == subprotocol
        yield session


def unique(prefix: str) -> str:
    """An id no other test (nor an earlier run on the same database) uses."""
    return f"{prefix}-{uuid4().hex[:12]}"


ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "line2": None,
    "city": "London",
    "postalCode": "N1 9GU",
    "country": "GB",
}


def create_order_input(customer_id: str, **changes: Any) -> dict[str, Any]:
    """A valid CreateOrderInput: two of p-1 at 9.99 and one p-2 at 10 (29.98 in all)."""
    return {
        "customerId": customer_id,
        "items": [
            {"productId": "p-1", "quantity": 2, "unitPrice": "9.99"},
            {"productId": "p-2", "quantity": 1, "unitPrice": "10"},
        ],
        "shippingAddress": ADDRESS,
        **changes,
    }


ORDER_FIELDS = """
    id customerId status itemCount totalAmount version
    items { productId quantity unitPrice lineTotal }
    shippingAddress { name line1 line2 city postalCode country }
    createdAt updatedAt shippedAt carrier trackingNumber cancelledAt cancellationReason
"""
RESULT_FIELDS = f"commandId orderId streamId version position duplicate order {{ {ORDER_FIELDS} }}"

CREATE_ORDER = f"""
mutation Create($input: CreateOrderInput!) {{ createOrder(input: $input) {{ {RESULT_FIELDS} }} }}
"""
ADD_ORDER_ITEM = f"""
mutation Add($input: AddOrderItemInput!) {{ addOrderItem(input: $input) {{ {RESULT_FIELDS} }} }}
"""
REMOVE_ORDER_ITEM = f"""
mutation Remove($input: RemoveOrderItemInput!) {{
  removeOrderItem(input: $input) {{ {RESULT_FIELDS} }}
}}
"""
SHIP_ORDER = f"""
mutation Ship($input: ShipOrderInput!) {{ shipOrder(input: $input) {{ {RESULT_FIELDS} }} }}
"""
CANCEL_ORDER = f"""
mutation Cancel($input: CancelOrderInput!) {{ cancelOrder(input: $input) {{ {RESULT_FIELDS} }} }}
"""
ORDER = f"""
query Order($id: ID!, $minPosition: BigInt, $timeoutMs: Int) {{
  order(id: $id, minPosition: $minPosition, timeoutMs: $timeoutMs) {{ {ORDER_FIELDS} }}
}}
"""
PROJECTIONS = (
    "query { projections { name position headPosition lag state lastError updatedAt version } }"
)


async def head_position(api: Api) -> int:
    """The log's last position, as the projections report it."""
    statuses = (await api.data(PROJECTIONS))["projections"]
    heads = {status["headPosition"] for status in statuses}
    assert len(heads) == 1, statuses
    head: int = heads.pop()
    return head


async def create_order(api: Api, customer_id: str, **changes: Any) -> dict[str, Any]:
    data = await api.data(CREATE_ORDER, input=create_order_input(customer_id, **changes))
    result: dict[str, Any] = data["createOrder"]
    return result
