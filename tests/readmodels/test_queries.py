"""Query handlers over order_views: pages, filters, sorting, search, and refused arguments."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from handlers.actor import SYSTEM
from handlers.bus import CommandBus
from handlers.commands import RemoveOrderItem
from readmodels import (
    GetCustomerOrders,
    InvalidQuery,
    OrderFilter,
    OrderSortField,
    OrderStatus,
    ReadSide,
    SearchOrders,
    SortOrder,
)
from tests.readmodels.conftest import T0, Catalog


async def test_customer_orders_come_newest_first_in_pages(catalog: Catalog) -> None:
    ask = catalog.side.bus.ask
    first = (await ask(GetCustomerOrders(customer_id="ada", page_size=1))).value
    second = (await ask(GetCustomerOrders(customer_id="ada", page=2, page_size=1))).value
    beyond = (await ask(GetCustomerOrders(customer_id="ada", page=3, page_size=1))).value
    shipped = (await ask(GetCustomerOrders(customer_id="ada", status=OrderStatus.SHIPPED))).value

    assert (catalog.names(first), catalog.names(second), catalog.names(beyond)) == (
        ["o2"],
        ["o1"],
        [],
    )
    assert (first.total, first.total_pages, first.page, first.page_size) == (2, 2, 1, 1)
    assert (beyond.total, beyond.total_pages) == (2, 2)
    assert catalog.names(shipped) == ["o2"]
    nobody = (await ask(GetCustomerOrders(customer_id="nobody"))).value
    assert (nobody.items, nobody.total, nobody.total_pages) == ((), 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mug", ["o5", "o1"]),  # a product id
        ("LONDON", ["o4", "o1"]),  # a city, whatever the case
        ("bob", ["o4", "o3"]),  # a customer id and a name
        ("75011", ["o2"]),  # a postal code
        ("pt", ["o5"]),  # a country, under three characters: no index, same answer
        ("sku_50%", ["o4"]),  # LIKE's wildcards are plain characters
        ("sk__50", []),
        ("1%1", []),
        ("ada king\nlondon", []),  # a match never spans two fields
        ("  ", ["o5", "o4", "o3", "o2", "o1"]),  # blank: every order, for filters alone
    ],
)
async def test_search_matches_substrings_of_the_searchable_fields(
    catalog: Catalog, text: str, expected: list[str]
) -> None:
    assert await catalog.search(text) == expected


async def test_search_finds_an_order_by_a_piece_of_its_id(catalog: Catalog) -> None:
    piece = str(catalog.ids["o3"])[9:22].upper()
    assert await catalog.search(piece) == ["o3"]


async def test_search_forgets_a_removed_product(catalog: Catalog, bus: CommandBus) -> None:
    await bus.dispatch(RemoveOrderItem(order_id=catalog.ids["o5"], product_id="lid"), SYSTEM)
    await catalog.side.runner.catch_up()
    assert await catalog.search("lid") == []
    assert await catalog.search("mug") == ["o5", "o1"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (OrderFilter(status=OrderStatus.PENDING), ["o5", "o4", "o1"]),
        (OrderFilter(customer_id="bob"), ["o4", "o3"]),
        (OrderFilter(min_total=Decimal("9.00")), ["o4", "o2", "o1"]),
        (OrderFilter(min_total=Decimal("8.999"), max_total=Decimal("12.339")), ["o1"]),
        (OrderFilter(max_total=Decimal("5")), ["o5", "o3"]),
        (OrderFilter(created_after=T0 + timedelta(minutes=4)), ["o5", "o4"]),
        (OrderFilter(created_before=T0 + timedelta(minutes=2)), ["o1"]),
        (OrderFilter(status=OrderStatus.PENDING, customer_id="ada"), ["o1"]),
    ],
)
async def test_filters_narrow_the_search(
    catalog: Catalog, filters: OrderFilter, expected: list[str]
) -> None:
    assert await catalog.search(filters=filters) == expected


async def test_filters_and_text_combine(catalog: Catalog) -> None:
    london_pending = OrderFilter(status=OrderStatus.PENDING, max_total=Decimal("10"))
    assert await catalog.search("london", filters=london_pending) == ["o1"]


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        (OrderSortField.CREATED_AT, SortOrder.ASC, ["o1", "o2", "o3", "o4", "o5"]),
        (OrderSortField.CREATED_AT, SortOrder.DESC, ["o5", "o4", "o3", "o2", "o1"]),
        (OrderSortField.TOTAL_AMOUNT, SortOrder.ASC, ["o3", "o5", "o1", "o4", "o2"]),
        (OrderSortField.TOTAL_AMOUNT, SortOrder.DESC, ["o2", "o4", "o1", "o5", "o3"]),
        (OrderSortField.UPDATED_AT, SortOrder.DESC, ["o3", "o2", "o5", "o4", "o1"]),
    ],
)
async def test_search_sorts_by_each_field_both_ways(
    catalog: Catalog, sort_by: OrderSortField, sort_order: SortOrder, expected: list[str]
) -> None:
    assert await catalog.search(sort_by=sort_by, sort_order=sort_order) == expected


async def test_search_pages_agree_with_the_total(catalog: Catalog) -> None:
    pages = [
        (await catalog.side.bus.ask(SearchOrders(query="", page=n, page_size=2))).value
        for n in (1, 2, 3)
    ]
    assert [catalog.names(page) for page in pages] == [["o5", "o4"], ["o3", "o2"], ["o1"]]
    assert {(page.total, page.total_pages) for page in pages} == {(5, 3)}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"page": 0}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"query": "x" * 201}, "query"),
        ({"filters": OrderFilter(created_after=datetime(2026, 1, 1))}, "filters.created_after"),
        ({"filters": OrderFilter(max_total=Decimal("NaN"))}, "filters.max_total"),
        ({"timeout": -1}, "timeout"),
        ({"min_position": -1}, "min_position"),
    ],
)
async def test_arguments_out_of_range_are_refused_with_their_field(
    idle_side: ReadSide, arguments: dict[str, Any], field: str
) -> None:
    query = SearchOrders(**{"query": "", **arguments})
    with pytest.raises(InvalidQuery) as refused:
        await idle_side.bus.ask(query)
    assert refused.value.field == field


async def test_the_largest_page_is_allowed_and_caps_customer_orders_too(catalog: Catalog) -> None:
    largest = await catalog.side.bus.ask(SearchOrders(query="", page_size=100))
    assert largest.value.total == 5
    with pytest.raises(InvalidQuery) as refused:
        await catalog.side.bus.ask(GetCustomerOrders(customer_id="ada", page_size=101))
    assert refused.value.field == "page_size"
