"""Rebuild equals incremental: after concurrent random commands, the read tables kept up
to date batch by batch, the tables rebuilt from the log, and a direct fold of each stream
all agree."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select

from eventstore import EventStore
from handlers.actor import SYSTEM
from handlers.aggregate import fold
from handlers.bus import CommandBus
from handlers.commands import (
    AddOrderItem,
    CancelOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from handlers.errors import DomainError
from handlers.events import OrderCancelled, OrderCreated, OrderShipped, codec, stream_id_of
from readmodels import ReadSide, RebuildProgress
from readmodels.customer_summaries.table import customer_orders, customer_summaries
from readmodels.order_views.table import order_views
from tests.eventstore.log_by_hand import read_all
from tests.readmodels.conftest import address, line

WRITERS = 8
COMMANDS_PER_WRITER = 250
PRICES = {f"p{n}": Decimal(f"{n + 1}.{n * 7 % 100:02d}") for n in range(8)}
CUSTOMERS = [f"customer-{n}" for n in range(25)]


def random_command(rng: random.Random, orders: list[UUID]) -> OrderCommand:
    roll = rng.random()
    product = rng.choice(list(PRICES))
    if not orders or roll < 0.25:
        products = rng.sample(list(PRICES), rng.randint(1, 3))
        return CreateOrder(
            customer_id=rng.choice(CUSTOMERS),
            items=tuple(line(p, rng.randint(1, 5), str(PRICES[p])) for p in products),
            shipping_address=address(city=rng.choice(["London", "Paris", "Oslo"])),
        )
    # most commands go to recent orders, so writers meet on the same streams
    order_id = rng.choice(orders[-20:])
    if roll < 0.6:
        quantity = rng.randint(1, 3)
        return AddOrderItem(
            order_id=order_id, product_id=product, quantity=quantity, unit_price=PRICES[product]
        )
    if roll < 0.8:
        return RemoveOrderItem(order_id=order_id, product_id=product)
    if roll < 0.9:
        return ShipOrder(order_id=order_id, carrier="DHL", tracking_number=str(rng.random()))
    return CancelOrder(order_id=order_id, reason="changed plans")


async def writer(bus: CommandBus, seed: int, orders: list[UUID]) -> None:
    rng = random.Random(seed)
    for _ in range(COMMANDS_PER_WRITER):
        try:
            outcome = await bus.dispatch(random_command(rng, orders), SYSTEM)
        except DomainError:
            continue  # refused (a shipped order, the last item, ...): nothing appended
        if outcome.version == 1:
            orders.append(outcome.order_id)


async def read_tables(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    async with store.engine.connect() as conn:
        return {
            table.name: sorted(
                (dict(row._mapping) for row in await conn.execute(select(table))),
                key=lambda row: str(row[table.primary_key.columns.keys()[0]]),
            )
            for table in (order_views, customer_summaries, customer_orders)
        }


async def folded_from_streams(store: EventStore, orders: list[UUID]) -> dict[str, Any]:
    """What the read tables should say, from each stream folded by the write side's own
    aggregate, with none of the projections' code."""
    views: dict[UUID, dict[str, Any]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    for order_id in orders:
        recorded = await store.read_stream(stream_id_of(order_id))
        events = [codec.decode(e.event_type, e.schema_version, e.data) for e in recorded]
        order = fold(order_id, events)
        assert order.status is not None
        created = events[0]
        assert isinstance(created, OrderCreated)
        shipped = [e for e in events if isinstance(e, OrderShipped)]
        cancelled = [e for e in events if isinstance(e, OrderCancelled)]
        total = sum((line.line_total for line in order.lines), Decimal(0))
        views[order_id] = {
            "customer_id": created.customer_id,
            "status": order.status.value,
            "items": [
                {
                    "product_id": x.product_id,
                    "quantity": x.quantity,
                    "unit_price": str(x.unit_price),
                }
                for x in order.lines
            ],
            "item_count": sum(x.quantity for x in order.lines),
            "total_cents": int(total * 100),
            "created_at": created.occurred_at,
            "updated_at": events[-1].occurred_at,
            "shipped_at": shipped[0].occurred_at if shipped else None,
            "cancelled_at": cancelled[0].occurred_at if cancelled else None,
            "version": recorded[-1].version,
            "last_position": recorded[-1].position,
        }
        summary = summaries.setdefault(
            created.customer_id,
            {
                "order_count": 0,
                "PENDING": 0,
                "SHIPPED": 0,
                "CANCELLED": 0,
                "spent": 0,
                "last": None,
            },
        )
        summary["order_count"] += 1
        summary[order.status.value] += 1
        summary["spent"] += 0 if cancelled else int(total * 100)
        summary["last"] = max(summary["last"] or created.occurred_at, created.occurred_at)
    return {"views": views, "summaries": summaries}


def as_folded(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    views = {row["order_id"]: {key: row[key] for key in VIEW_KEYS} for row in tables["order_views"]}
    summaries = {
        row["customer_id"]: {
            "order_count": row["order_count"],
            "PENDING": row["pending_count"],
            "SHIPPED": row["shipped_count"],
            "CANCELLED": row["cancelled_count"],
            "spent": row["total_spent_cents"],
            "last": row["last_order_at"],
        }
        for row in tables["customer_summaries"]
    }
    return {"views": views, "summaries": summaries}


VIEW_KEYS = (
    "customer_id",
    "status",
    "items",
    "item_count",
    "total_cents",
    "created_at",
    "updated_at",
    "shipped_at",
    "cancelled_at",
    "version",
    "last_position",
)


async def test_rebuilt_tables_equal_incremental_ones_and_the_folded_streams(
    store: EventStore, bus: CommandBus, read_side: ReadSide
) -> None:
    orders: list[UUID] = []
    # the runner follows the writers as they go: batches of every size meet the folds
    await asyncio.gather(*(writer(bus, seed, orders) for seed in range(WRITERS)))
    head = max(store.signal.latest, await store.head_position())
    assert not (await read_side.waiter.wait_for(head, timeout=60)).stale
    incremental = await read_tables(store)

    progress: list[RebuildProgress] = []
    for name in read_side.runner.names:
        await read_side.runner.rebuild(name, progress.append)
    assert not (await read_side.waiter.wait_for(head, timeout=60)).stale
    rebuilt = await read_tables(store)

    assert len(orders) > 300
    assert rebuilt == incremental
    assert as_folded(incremental) == await folded_from_streams(store, orders)
    events = sum(1 for _ in await read_all(store, 0, limit=100_000))
    finals = [p for p in progress if p.done == events]
    assert [p.projection for p in finals] == read_side.runner.names
    assert all(p.total == events and p.eta_seconds == 0 for p in finals)
