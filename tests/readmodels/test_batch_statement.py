"""A PostgreSQL batch as one statement: its rows go in only with its checkpoint, and a
runner overtaken by another folds from the tables again, not from the rows it kept."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import select

from eventstore import EventStore
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from readmodels import sql
from readmodels.customer_summaries.table import customer_orders
from readmodels.held_rows import Upsert
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.order_views.table import order_views, view_of
from readmodels.running.applier import ProjectionApplier
from readmodels.running.batch_statement import batch_statement
from readmodels.status import checkpoints
from readmodels.status.status_hub import StatusHub
from tests.readmodels.conftest import QUICK_RETRY, add_item, create_order


async def test_a_batch_statement_whose_checkpoint_moved_writes_nothing(
    pg_store: EventStore,
) -> None:
    async with pg_store.write_transaction() as conn:
        await checkpoints.ensure(conn, ["customer_summaries"])
        loaded = (await checkpoints.load(conn, ["customer_summaries"]))["customer_summaries"]
    order_id = uuid4()
    row = {"order_id": order_id, "customer_id": "c-1", "status": "PENDING", "total_cents": 900}
    upsert = Upsert(customer_orders, [row], ("order_id",), None)

    async def send(revision: int) -> checkpoints.CheckpointRecord | None:
        async with pg_store.engine.connect() as conn:
            statement, arguments = batch_statement(
                conn.dialect,
                [upsert],
                "customer_summaries",
                revision=revision,
                version=1,
                to=loaded.position + 1024,
                caught_up=True,
            )
            driver = await sql.driver_of(conn, begin=False)
            answer: checkpoints.CheckpointRecord | None = await driver.fetchrow(
                statement, *arguments, record_class=checkpoints.CheckpointRecord
            )
            return answer

    async def kept() -> list[object]:
        async with pg_store.engine.connect() as conn:
            found = await conn.execute(
                select(customer_orders.c.order_id).where(customer_orders.c.order_id == order_id)
            )
            return list(found.scalars())

    assert await send(loaded.revision + 1) is None  # someone changed the checkpoint since
    assert await kept() == []

    moved = await send(loaded.revision)
    assert moved is not None
    assert (moved.position, moved.revision) == (loaded.position + 1024, loaded.revision + 1)
    assert await kept() == [order_id]


async def test_a_runner_overtaken_by_another_folds_from_the_table_not_from_its_rows(
    pg_store: EventStore,
) -> None:
    bus = CommandBus()
    register_order_handlers(bus, pg_store)
    first, second = (
        ProjectionApplier(pg_store, OrderViewsProjection(), StatusHub(), QUICK_RETRY, lambda: 0)
        for _ in range(2)
    )
    created = await create_order(bus, "c-1")
    await first.load()
    await past(first, created.position)  # it keeps the order's row as it wrote it

    pen = await add_item(bus, created.order_id, "pen")
    await second.load()
    await past(second, pen.position)  # another process moves the checkpoint on
    ink = await add_item(bus, created.order_id, "ink")
    assert await first.catch_up(500)  # overtaken: it writes nothing, reads its checkpoint
    assert first.position == second.position
    await past(first, ink.position)

    async with pg_store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(order_views).where(order_views.c.order_id == created.order_id)
            )
        ).one()
    assert [line.product_id for line in view_of(row).items] == ["mug", "pen", "ink"]


async def past(applier: ProjectionApplier, position: int) -> None:
    """Catch up until `position` is applied: a transaction elsewhere on the server may keep
    it above the read horizon for a while."""
    while applier.position < position:
        assert await applier.catch_up(500)
