"""The order_views projection: events from the command bus to the rows queries read."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from handlers.actor import SYSTEM
from handlers.bus import CommandBus
from handlers.commands import CancelOrder, RemoveOrderItem, ShipOrder
from handlers.events import Address
from readmodels import GetOrderById, OrderStatus, OrderView, ReadSide
from readmodels.order_views.table import search_text, searchable
from tests.readmodels.conftest import T0, add_item, address, create_order, line


async def view(side: ReadSide, order_id: UUID) -> OrderView:
    await side.runner.catch_up()
    found = (await side.bus.ask(GetOrderById(order_id=order_id))).value
    assert found is not None
    return found


async def test_a_created_order_shows_everything_it_was_created_with(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    shipping = address(name="Grace Hopper", city="Arlington", country="US")
    created = await create_order(
        bus, "customer-7", line("mug", 2, "4.50"), line("tea", 1, "3.20"), shipping=shipping
    )

    order = await view(idle_side, created.order_id)

    assert order.customer_id == "customer-7"
    assert order.status is OrderStatus.PENDING
    assert [(i.product_id, i.quantity, i.unit_price, i.line_total) for i in order.items] == [
        ("mug", 2, Decimal("4.50"), Decimal("9.00")),
        ("tea", 1, Decimal("3.20"), Decimal("3.20")),
    ]
    assert (order.item_count, order.total_amount) == (3, Decimal("12.20"))
    assert order.shipping_address == shipping
    assert order.created_at == order.updated_at
    assert order.created_at.utcoffset() is not None
    assert (order.version, order.last_position) == (1, created.position)
    assert (order.shipped_at, order.cancelled_at, order.carrier) == (None, None, None)


async def test_items_added_and_removed_change_lines_count_and_total(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    created = await create_order(bus, "c", line("mug", 2, "4.50"))
    oid = created.order_id
    await add_item(bus, oid, "mug", 3, "4.50")
    await add_item(bus, oid, "pot", 1, "20.05")
    await add_item(bus, oid, "lid", 1, "1.10")
    last = await bus.dispatch(RemoveOrderItem(order_id=oid, product_id="pot"), SYSTEM)

    order = await view(idle_side, oid)

    assert [(i.product_id, i.quantity) for i in order.items] == [("mug", 5), ("lid", 1)]
    assert (order.item_count, order.total_amount) == (6, Decimal("23.60"))
    assert (order.version, order.last_position) == (5, last.position)
    assert order.updated_at > order.created_at


async def test_a_shipped_order_shows_carrier_tracking_and_time(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    created = await create_order(bus)
    await bus.dispatch(
        ShipOrder(order_id=created.order_id, carrier="DHL", tracking_number="JD01"), SYSTEM
    )

    order = await view(idle_side, created.order_id)

    assert order.status is OrderStatus.SHIPPED
    assert (order.carrier, order.tracking_number) == ("DHL", "JD01")
    assert order.shipped_at == order.updated_at
    assert order.cancelled_at is None


async def test_a_cancelled_order_shows_reason_and_time(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    created = await create_order(bus)
    await bus.dispatch(CancelOrder(order_id=created.order_id, reason="changed my mind"), SYSTEM)

    order = await view(idle_side, created.order_id)

    assert order.status is OrderStatus.CANCELLED
    assert order.cancellation_reason == "changed my mind"
    assert order.cancelled_at == order.updated_at
    assert order.version == 2


async def test_one_batch_folds_many_events_of_many_orders(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    orders = [await create_order(bus, f"c-{n}", line("mug", 1, "1.00")) for n in range(5)]
    for created in orders:
        for _ in range(3):
            await add_item(bus, created.order_id, "mug", 1, "1.00")

    for created in orders:  # the first catch-up applies all of it in one batch
        order = await view(idle_side, created.order_id)
        assert (order.item_count, order.total_amount, order.version) == (4, Decimal("4.00"), 4)


async def test_an_unknown_order_is_none(idle_side: ReadSide) -> None:
    await idle_side.runner.catch_up()
    result = await idle_side.bus.ask(GetOrderById(order_id=UUID(int=7)))
    assert result.value is None
    assert not result.consistency.stale


def test_the_search_text_is_each_field_searchable_a_line_each() -> None:
    """search_text lowers the whole text at once: the same as each field on its own, also
    for letters whose lower case depends on what follows (a final sigma) or is longer."""
    sigma = "\u03a3"  # lower case: a final sigma at the end of a word, else a medial one
    fields = (
        f"\u0394{sigma}\t\u0394{sigma}{sigma} ",
        "  \u0130stanbul\nSquare ",  # I with a dot above: two characters in lower case
        f"SKU  {sigma}{sigma}",
        "\u00d1and\u00fa",
        f"{sigma}\u0394{sigma}",
        "MIXed Case",
    )
    order = OrderView(
        id=UUID("12345678-1234-5678-1234-567812345678"),
        customer_id=fields[0],
        status=OrderStatus.PENDING,
        items=(line(fields[2]), line(fields[5])),
        shipping_address=Address(
            name=fields[1],
            line1="not searched",
            line2=None,
            city=fields[3],
            postal_code=fields[4],
            country=fields[5],
        ),
        created_at=T0,
        updated_at=T0,
        version=1,
        last_position=1,
    )
    each = [str(order.id), fields[0], fields[2], fields[5], *fields[1:2], *fields[3:6]]
    assert search_text(order) == "\n".join(searchable(field) for field in each)
