"""Every query can be served by an index (the benchmark shows the plans at 100k orders)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bench.plans import query_plans, scanned_tables
from eventstore import EventStore
from readmodels import (
    GetCustomerOrders,
    GetCustomerSummary,
    GetOrderById,
    OrderFilter,
    OrderSortField,
    OrderStatus,
    Query,
    SearchOrders,
    SortOrder,
)
from tests.readmodels.conftest import T0, Catalog

READ_TABLES = {"order_views", "customer_summaries", "customer_orders"}

QUERIES: list[Query[object]] = [
    GetCustomerOrders(customer_id="ada"),
    GetCustomerOrders(customer_id="ada", status=OrderStatus.SHIPPED, page=2, page_size=1),
    GetCustomerSummary(customer_id="ada"),
    SearchOrders(query="london"),
    SearchOrders(query="", filters=OrderFilter(status=OrderStatus.PENDING)),
    SearchOrders(query="", filters=OrderFilter(customer_id="bob")),
    SearchOrders(query="", filters=OrderFilter(min_total=Decimal(5), max_total=Decimal(10))),
    SearchOrders(query="", filters=OrderFilter(created_after=T0 + timedelta(minutes=3))),
    *(
        SearchOrders(query="", sort_by=field, sort_order=order)
        for field in OrderSortField
        for order in SortOrder
    ),
]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
async def test_no_query_reads_a_whole_read_table(
    store: EventStore, catalog: Catalog, query: Query[object]
) -> None:
    plans = await query_plans(store.engine, lambda: catalog.side.bus.ask(query), force_indexes=True)

    assert plans
    for plan in plans:
        assert not scanned_tables(plan) & READ_TABLES, plan


@pytest.mark.parametrize(
    "query",
    [
        GetCustomerOrders(customer_id="ada", status=OrderStatus.SHIPPED),
        SearchOrders(query="", filters=OrderFilter(customer_id="ada", status=OrderStatus.PENDING)),
    ],
    ids=repr,
)
async def test_a_customer_with_a_status_is_found_through_the_customer_index(
    store: EventStore, catalog: Catalog, query: Query[object]
) -> None:
    plans = await query_plans(store.engine, lambda: catalog.side.bus.ask(query), force_indexes=True)
    assert all("ix_order_views_customer" in plan for plan in plans), plans


async def test_an_order_by_id_is_one_primary_key_lookup(
    store: EventStore, catalog: Catalog
) -> None:
    query = GetOrderById(order_id=catalog.ids["o1"])
    [plan] = await query_plans(
        store.engine, lambda: catalog.side.bus.ask(query), force_indexes=True
    )
    assert not scanned_tables(plan)
    assert "order_views" in plan
