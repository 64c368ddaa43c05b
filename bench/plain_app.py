"""The baseline server: plain Starlette endpoints doing the least the service's operations
need, under the same uvicorn settings as `cqrs-orders serve`.

    python -m bench.plain_app --port PORT     (BENCH_DATABASE_URL: an asyncpg URL)

POST /orders     the createOrder request body in, one asyncpg INSERT (append.PLAIN_INSERT:
                 the event row and the command record, plain tables, no gap-safety), the
                 createOrder answer out.
POST /order      the order(id) request body in, the service's SELECT by primary key on
                 order_views, the fields the query asks for out.
WS   /feed       a plain websocket; POST /broadcast stamps the time, encodes one message
                 and hands it to every connection's task, as the update hub does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.append import FINGERPRINT, PLAIN_INSERT, RawStatement
from readmodels.order_views.table import order_views
from schema.cli.serve import MAX_WEBSOCKET_MESSAGE_BYTES

INSERT = RawStatement.from_named(PLAIN_INSERT)
SELECT_ORDER = (
    f"SELECT {', '.join(column.name for column in order_views.columns)} "
    "FROM order_views WHERE order_id = $1"
)


class Feed:
    """The newest message for each connection, and a wake-up: like the hub, a slow
    connection skips to the newest message instead of queueing."""

    def __init__(self) -> None:
        self.connections: set[Slot] = set()
        self.sequence = 0

    def broadcast(self) -> int:
        self.sequence += 1
        message = json.dumps({"position": self.sequence, "sentAt": time.time()})
        for slot in self.connections:
            slot.message = message
            slot.ready.set()
        return self.sequence


class Slot:
    def __init__(self) -> None:
        self.message = ""
        self.ready = asyncio.Event()


async def create_order(request: Request) -> Response:
    order = json.loads(await request.body())["variables"]["input"]
    order_id = uuid.uuid4()
    now = datetime.now(UTC)
    parameters = {
        "stream_id": f"Order-{order_id}",
        "stream_type": "Order",
        "expected_version": 0,
        "event_ids": [uuid.uuid4()],
        "event_types": ["OrderCreated"],
        "schema_versions": [1],
        "datas": [json.dumps({**order, "order_id": str(order_id), "occurred_at": now.isoformat()})],
        "metadatas": [json.dumps({"command_id": order["commandId"]})],
        "command_id": uuid.UUID(order["commandId"]),
        "fingerprint": FINGERPRINT,
        "recorded_at": now,
    }
    async with request.app.state.pool.acquire() as connection:
        row = await connection.fetchrow(INSERT.sql, *INSERT.arguments(parameters))
    result = {"orderId": str(order_id), "version": row["version"], "position": row["position"]}
    return JSONResponse({"data": {"createOrder": result}})


async def order(request: Request) -> Response:
    order_id = uuid.UUID(json.loads(await request.body())["variables"]["id"])
    async with request.app.state.pool.acquire() as connection:
        row = await connection.fetchrow(SELECT_ORDER, order_id)
    if row is None:
        return JSONResponse({"data": {"order": None}})
    items = json.loads(row["items"]) if isinstance(row["items"], str) else row["items"]
    view = {
        "id": str(row["order_id"]),
        "customerId": row["customer_id"],
        "status": row["status"].upper(),
        "itemCount": row["item_count"],
        "totalAmount": str(Decimal(row["total_cents"]) / 100),
        "items": [
            {"productId": i["product_id"], "quantity": i["quantity"], "unitPrice": i["unit_price"]}
            for i in items
        ],
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
        "version": row["version"],
    }
    return JSONResponse({"data": {"order": view}})


async def broadcast(request: Request) -> Response:
    return JSONResponse({"data": {"position": request.app.state.feed.broadcast()}})


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def feed(websocket: WebSocket) -> None:
    await websocket.accept()
    slot, connections = Slot(), websocket.app.state.feed.connections
    connections.add(slot)
    try:
        while True:
            await slot.ready.wait()
            slot.ready.clear()
            await websocket.send_text(slot.message)
    except WebSocketDisconnect:
        pass
    finally:
        connections.discard(slot)


def create_app() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # the size of the service's SQLAlchemy pool (eventstore.database.engine)
        async with asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=10
        ) as pool:
            app.state.pool = pool
            app.state.feed = Feed()
            yield

    routes: list[Any] = [
        Route("/orders", create_order, methods=["POST"]),
        Route("/order", order, methods=["POST"]),
        Route("/broadcast", broadcast, methods=["POST"]),
        Route("/health", health),
        WebSocketRoute("/feed", feed),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.plain_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # the settings of schema.cli.serve
    uvicorn.run(
        "bench.plain_app:create_app",
        factory=True,
        host=arguments.host,
        port=arguments.port,
        workers=1,
        ws_max_size=MAX_WEBSOCKET_MESSAGE_BYTES,
        ws_per_message_deflate=False,
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
