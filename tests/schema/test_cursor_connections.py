"""Cursor pages (Relay connections) of a customer's orders and of search, on a real server
with authentication on, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

from tests.identity.served import Served, bearer, served_fixture
from tests.schema.service import Api, create_order, http_api, unique

served = served_fixture()

CUSTOMER_PAGE = """
query Page($customerId: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  customerOrdersConnection(customerId: $customerId, first: $first, after: $after,
                           last: $last, before: $before) {
    edges { cursor node { id customerId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SEARCH_PAGE = """
query Page($customerId: ID, $first: Int, $after: String, $last: Int, $before: String,
           $sortBy: OrderSortField, $sortOrder: SortOrder) {
  searchOrdersConnection(query: "", filters: {customerId: $customerId}, sortBy: $sortBy,
                         sortOrder: $sortOrder, first: $first, after: $after,
                         last: $last, before: $before) {
    edges { cursor node { id customerId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
PAGE_SIZE = 3
AT_START = 10


def connection_of(data: dict[str, Any]) -> dict[str, Any]:
    (connection,) = data.values()
    result: dict[str, Any] = connection
    return result


async def walk(
    api: Api,
    document: str,
    backwards: bool,
    between_pages: Callable[[], Awaitable[None]] | None = None,
    **variables: Any,
) -> list[str]:
    """Every order id of the listing, page after page, in the order the pages give them;
    `between_pages` is awaited before each page after the first."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        if backwards:
            page_variables = {"last": PAGE_SIZE, "before": cursor}
        else:
            page_variables = {"first": PAGE_SIZE, "after": cursor}
        connection = connection_of(await api.data(document, **variables, **page_variables))
        ids = [edge["node"]["id"] for edge in connection["edges"]]
        seen.extend(reversed(ids) if backwards else ids)
        info = connection["pageInfo"]
        if ids:
            assert info["startCursor"] == connection["edges"][0]["cursor"]
            assert info["endCursor"] == connection["edges"][-1]["cursor"]
        more = info["hasPreviousPage"] if backwards else info["hasNextPage"]
        if not more:
            return seen
        cursor = info["startCursor"] if backwards else info["endCursor"]
        if between_pages is not None:
            await between_pages()


async def walk_while_writing(
    served: Served, customer: str, headers: dict[str, str], document: str, **variables: Any
) -> None:
    async with (
        http_api(served.server, bearer(customer)) as writer,
        http_api(served.server, headers) as reader,
    ):
        present = {(await create_order(writer, customer))["orderId"] for _ in range(AT_START)}
        stop = asyncio.Event()
        wrote = asyncio.Event()
        written: list[str] = []

        async def keep_writing() -> None:
            while not stop.is_set():
                written.append((await create_order(writer, customer))["orderId"])
                wrote.set()

        async def a_write_in_between() -> None:
            # every page after the first is read after at least one more order was created
            wrote.clear()
            await wrote.wait()

        walks: list[list[str]] = []
        writing = asyncio.create_task(keep_writing())
        try:
            for backwards in (False, True):
                walks.append(
                    await walk(reader, document, backwards, a_write_in_between, **variables)
                )
        finally:
            stop.set()
            await writing
    # checked once the writer has stopped: a page may show an order whose createOrder
    # answer was still on its way to the writer
    for seen in walks:
        assert len(seen) == len(set(seen)), "an order came twice"
        assert present <= set(seen), "an order present at the start was missed"
        assert set(seen) <= present | set(written)


async def test_a_customer_walks_their_orders_both_ways_while_orders_are_created(
    served: Served,
) -> None:
    customer = unique("cursor")
    await walk_while_writing(served, customer, bearer(customer), CUSTOMER_PAGE, customerId=customer)


async def test_staff_walk_search_by_total_both_ways_while_orders_are_created(
    served: Served,
) -> None:
    customer = unique("cursor-search")
    await walk_while_writing(
        served,
        customer,
        bearer("staff-walker", "staff"),
        SEARCH_PAGE,
        customerId=customer,
        sortBy="TOTAL_AMOUNT",
        sortOrder="ASC",
    )


async def test_pages_are_in_order_and_their_flags_are_exact(served: Served) -> None:
    customer = unique("cursor-flags")
    async with http_api(served.server, bearer(customer)) as api:
        created = [(await create_order(api, customer))["orderId"] for _ in range(5)]
        newest_first = list(reversed(created))
        assert await walk(api, CUSTOMER_PAGE, False, customerId=customer) == newest_first
        assert await walk(api, CUSTOMER_PAGE, True, customerId=customer) == created
        first = connection_of(await api.data(CUSTOMER_PAGE, customerId=customer, first=5))
        assert first["pageInfo"]["hasNextPage"] is False
        assert first["pageInfo"]["hasPreviousPage"] is False
        after_last = first["pageInfo"]["endCursor"]
        empty = connection_of(
            await api.data(CUSTOMER_PAGE, customerId=customer, first=5, after=after_last)
        )
        assert empty["edges"] == []
        assert empty["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": True,
            "startCursor": None,
            "endCursor": None,
        }


async def test_a_tampered_or_foreign_cursor_is_bad_user_input(served: Served) -> None:
    customer = unique("cursor-tamper")
    async with http_api(served.server, bearer(customer)) as api:
        await create_order(api, customer)
        page = connection_of(await api.data(CUSTOMER_PAGE, customerId=customer, first=1))
        cursor = page["pageInfo"]["endCursor"]
        raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        raw[-3] ^= 1  # one bit of the order id
        tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        for bad in (tampered, "not a cursor", cursor[:-4], ""):
            error = await api.error(CUSTOMER_PAGE, customerId=customer, first=1, after=bad)
            assert error["extensions"]["code"] == "BAD_USER_INPUT", bad
            assert error["extensions"]["field"] == "after"
        # a cursor of the listing by creation time, given to one sorted by total
        error = await api.error(
            SEARCH_PAGE, first=1, after=cursor, sortBy="TOTAL_AMOUNT", sortOrder="ASC"
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        error = await api.error(CUSTOMER_PAGE, customerId=customer, first=1, last=1)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        error = await api.error(CUSTOMER_PAGE, customerId=customer, first=101)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "first",
        )


async def test_connections_are_scoped_as_their_page_fields(served: Served) -> None:
    ada, bob = unique("cursor-ada"), unique("cursor-bob")
    async with (
        http_api(served.server, bearer(ada)) as as_ada,
        http_api(served.server, bearer(bob)) as as_bob,
    ):
        bobs = (await create_order(as_bob, bob))["orderId"]
        await create_order(as_ada, ada)
        error = await as_ada.error(CUSTOMER_PAGE, customerId=bob, first=5)
        assert error["extensions"]["code"] == "FORBIDDEN"
        error = await as_ada.error(SEARCH_PAGE, customerId=bob, first=5)
        assert error["extensions"]["code"] == "FORBIDDEN"
        # search without a customer filter: only ada's own orders, on every page, even
        # after a cursor taken from bob's listing
        bobs_page = connection_of(await as_bob.data(SEARCH_PAGE, first=1))
        seen = connection_of(
            await as_ada.data(SEARCH_PAGE, first=100, after=bobs_page["pageInfo"]["endCursor"])
        )
        assert {edge["node"]["customerId"] for edge in seen["edges"]} <= {ada}
        everything = connection_of(await as_ada.data(SEARCH_PAGE, first=100))
        ids = {edge["node"]["id"] for edge in everything["edges"]}
        assert bobs not in ids
        assert {edge["node"]["customerId"] for edge in everything["edges"]} == {ada}
