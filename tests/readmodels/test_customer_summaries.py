"""The customer_summaries projection: counts, spend and last order time per customer."""

from __future__ import annotations

from decimal import Decimal

from handlers.actor import SYSTEM
from handlers.bus import CommandBus
from handlers.commands import CancelOrder, RemoveOrderItem, ShipOrder
from readmodels import CustomerSummaryView, GetCustomerSummary, GetOrderById, ReadSide
from tests.readmodels.conftest import add_item, create_order, line


async def summary(side: ReadSide, customer_id: str) -> CustomerSummaryView | None:
    await side.runner.catch_up()
    return (await side.bus.ask(GetCustomerSummary(customer_id=customer_id))).value


async def test_counts_and_spend_follow_each_order_status(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    pending = await create_order(bus, "ada", line("mug", 2, "4.50"))
    shipped = await create_order(bus, "ada", line("pot", 1, "20.00"))
    cancelled = await create_order(bus, "ada", line("tea", 3, "1.00"))
    await create_order(bus, "bob", line("mug", 1, "4.50"))
    await bus.dispatch(
        ShipOrder(order_id=shipped.order_id, carrier="DHL", tracking_number="1"), SYSTEM
    )
    await bus.dispatch(CancelOrder(order_id=cancelled.order_id, reason="late"), SYSTEM)
    await add_item(bus, pending.order_id, "lid", 2, "0.25")

    ada = await summary(idle_side, "ada")

    last = (await idle_side.bus.ask(GetOrderById(order_id=cancelled.order_id))).value
    assert last is not None
    assert ada == CustomerSummaryView(
        customer_id="ada",
        order_count=3,
        pending_count=1,
        shipped_count=1,
        cancelled_count=1,
        total_spent=Decimal("29.50"),  # 9.00 + 0.50 + 20.00; the cancelled order counts nothing
        last_order_at=last.created_at,
    )
    bob = await summary(idle_side, "bob")
    assert bob is not None
    assert (bob.order_count, bob.total_spent) == (1, Decimal("4.50"))


async def test_removing_an_item_lowers_the_spend(bus: CommandBus, idle_side: ReadSide) -> None:
    order = await create_order(bus, "ada", line("mug", 2, "4.50"), line("pot", 1, "20.00"))
    await idle_side.runner.catch_up()  # the removal lands in a later batch than the creation
    await bus.dispatch(RemoveOrderItem(order_id=order.order_id, product_id="pot"), SYSTEM)

    ada = await summary(idle_side, "ada")

    assert ada is not None
    assert ada.total_spent == Decimal("9.00")
    assert ada.total_spent.as_tuple().exponent == -2


async def test_a_status_change_in_a_later_batch_moves_the_counts(
    bus: CommandBus, idle_side: ReadSide
) -> None:
    first = await create_order(bus, "ada", line("mug", 1, "5.00"))
    second = await create_order(bus, "ada", line("mug", 1, "7.00"))
    before = await summary(idle_side, "ada")
    await bus.dispatch(CancelOrder(order_id=first.order_id, reason="late"), SYSTEM)
    await bus.dispatch(
        ShipOrder(order_id=second.order_id, carrier="UPS", tracking_number="2"), SYSTEM
    )

    after = await summary(idle_side, "ada")

    assert before is not None and after is not None
    assert (before.pending_count, before.total_spent) == (2, Decimal("12.00"))
    assert (after.pending_count, after.shipped_count, after.cancelled_count) == (0, 1, 1)
    assert (after.order_count, after.total_spent) == (2, Decimal("7.00"))
    assert after.last_order_at == before.last_order_at


async def test_a_customer_without_orders_has_no_summary(idle_side: ReadSide) -> None:
    assert await summary(idle_side, "nobody") is None
