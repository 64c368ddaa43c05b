"""Every mutation and query of the contract through a real gql client against a real server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from tests.schema.service import (
    ADD_ORDER_ITEM,
    ADDRESS,
    CANCEL_ORDER,
    ORDER,
    ORDER_FIELDS,
    PROJECTIONS,
    REMOVE_ORDER_ITEM,
    SHIP_ORDER,
    Server,
    create_order,
    head_position,
    http_api,
    server_fixture,
    unique,
)

server = server_fixture()

CUSTOMER_ORDERS = f"""
query Orders($customerId: ID!, $status: OrderStatus, $page: Int, $pageSize: Int) {{
  customerOrders(customerId: $customerId, status: $status, page: $page, pageSize: $pageSize) {{
    items {{ {ORDER_FIELDS} }} total page pageSize totalPages
  }}
}}
"""
SEARCH_ORDERS = """
query Search(
  $query: String!, $filters: OrderFilter, $sortBy: OrderSortField, $sortOrder: SortOrder,
  $page: Int, $pageSize: Int, $minPosition: BigInt
) {
  searchOrders(
    query: $query, filters: $filters, sortBy: $sortBy, sortOrder: $sortOrder,
    page: $page, pageSize: $pageSize, minPosition: $minPosition
  ) { items { id totalAmount status createdAt } total page pageSize totalPages }
}
"""
CUSTOMER_SUMMARY = """
query Summary($customerId: ID!, $minPosition: BigInt) {
  customerSummary(customerId: $customerId, minPosition: $minPosition) {
    customerId orderCount pendingCount shippedCount cancelledCount totalSpent lastOrderAt
  }
}
"""


def is_json_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def utc_moment(value: str) -> datetime:
    """A DateTime of the API: ISO-8601 with an explicit offset (the service writes UTC)."""
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0), value
    assert value.endswith("+00:00"), value
    return moment


async def test_create_order_answers_the_command_result_and_the_order_it_made(
    server: Server,
) -> None:
    customer = unique("create")
    command_id = str(uuid4())
    async with http_api(server) as api:
        result = await create_order(api, customer, commandId=command_id)

    order_id = str(UUID(result["orderId"]))
    assert result["commandId"] == command_id
    assert result["streamId"] == f"Order-{order_id}"
    assert result["version"] == 1
    assert is_json_integer(result["position"]) and result["position"] > 0
    assert result["duplicate"] is False
    order = result["order"]
    assert order["id"] == order_id
    assert order["customerId"] == customer
    assert order["status"] == "PENDING"
    assert order["version"] == 1
    assert order["items"] == [
        {"productId": "p-1", "quantity": 2, "unitPrice": "9.99", "lineTotal": "19.98"},
        {"productId": "p-2", "quantity": 1, "unitPrice": "10.00", "lineTotal": "10.00"},
    ]
    assert order["itemCount"] == 3
    assert order["totalAmount"] == "29.98"
    assert order["shippingAddress"] == ADDRESS
    assert utc_moment(order["createdAt"]) == utc_moment(order["updatedAt"])
    for absent in ("shippedAt", "carrier", "trackingNumber", "cancelledAt", "cancellationReason"):
        assert order[absent] is None


async def test_add_remove_and_ship_change_the_order_one_version_at_a_time(
    server: Server,
) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("lifecycle"))
        order_id = created["orderId"]
        added = (
            await api.data(
                ADD_ORDER_ITEM,
                input={"orderId": order_id, "productId": "p-1", "quantity": 1, "unitPrice": "9.99"},
            )
        )["addOrderItem"]
        added_new = (
            await api.data(
                ADD_ORDER_ITEM,
                input={
                    "orderId": order_id,
                    "expectedVersion": 2,
                    "productId": "p-3",
                    "quantity": 4,
                    "unitPrice": "0.25",
                },
            )
        )["addOrderItem"]
        removed = (
            await api.data(REMOVE_ORDER_ITEM, input={"orderId": order_id, "productId": "p-2"})
        )["removeOrderItem"]
        shipped = (
            await api.data(
                SHIP_ORDER,
                input={"orderId": order_id, "carrier": " DHL ", "trackingNumber": "JD0140"},
            )
        )["shipOrder"]

    steps = [created, added, added_new, removed, shipped]
    assert [step["version"] for step in steps] == [1, 2, 3, 4, 5]
    assert [step["order"]["version"] for step in steps] == [1, 2, 3, 4, 5]
    positions = [step["position"] for step in steps]
    assert all(map(is_json_integer, positions))
    assert positions == sorted(set(positions)), "each command appends after the one before"
    # the same product is summed into its line; a new one is appended
    assert added["order"]["items"][0] == {
        "productId": "p-1",
        "quantity": 3,
        "unitPrice": "9.99",
        "lineTotal": "29.97",
    }
    assert added["order"]["totalAmount"] == "39.97"
    assert added_new["order"]["totalAmount"] == "40.97"
    assert [item["productId"] for item in removed["order"]["items"]] == ["p-1", "p-3"]
    assert removed["order"]["totalAmount"] == "30.97"
    assert removed["order"]["itemCount"] == 7
    order = shipped["order"]
    assert order["status"] == "SHIPPED"
    assert (order["carrier"], order["trackingNumber"]) == ("DHL", "JD0140")
    assert utc_moment(order["shippedAt"]) >= utc_moment(order["createdAt"])
    assert utc_moment(order["updatedAt"]) == utc_moment(order["shippedAt"])


async def test_cancel_order_records_when_and_why(server: Server) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("cancel"))
        cancelled = (
            await api.data(
                CANCEL_ORDER, input={"orderId": created["orderId"], "reason": "changed my mind"}
            )
        )["cancelOrder"]

    order = cancelled["order"]
    assert cancelled["version"] == 2
    assert order["status"] == "CANCELLED"
    assert order["cancellationReason"] == "changed my mind"
    assert utc_moment(order["cancelledAt"]) >= utc_moment(order["createdAt"])
    assert order["shippedAt"] is None


async def test_order_query_at_a_command_position_is_the_order_the_command_made(
    server: Server,
) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("read"))
        result = await api.result(
            ORDER, id=created["orderId"], minPosition=created["position"], timeoutMs=5000
        )
        missing = await api.data(ORDER, id=str(uuid4()))

    assert result.data["order"] == created["order"]
    assert not (result.extensions or {}).get("consistency"), "a reached position is not stale"
    assert missing == {"order": None}


async def test_a_read_that_gives_up_waiting_says_stale_in_extensions(server: Server) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("stale"))
        unreachable = created["position"] + 10**12
        result = await api.result(
            ORDER, id=created["orderId"], minPosition=unreachable, timeoutMs=50
        )

    # it answers with what the projections have, and says so
    assert result.data["order"]["id"] == created["orderId"]
    assert result.extensions["consistency"] == {
        "stale": True,
        "position": unreachable,
        "awaited": ["order_views"],
    }


async def test_customer_orders_filter_by_status_and_page_newest_first(server: Server) -> None:
    customer = unique("paging")
    async with http_api(server) as api:
        ids = [(await create_order(api, customer))["orderId"] for _ in range(5)]
        await api.data(CANCEL_ORDER, input={"orderId": ids[0], "reason": "duplicate"})
        await api.data(
            SHIP_ORDER, input={"orderId": ids[1], "carrier": "UPS", "trackingNumber": "1Z"}
        )
        last = await api.data(
            SHIP_ORDER, input={"orderId": ids[2], "carrier": "UPS", "trackingNumber": "1Y"}
        )
        # reads are read-your-writes only when asked: wait for the last command
        await api.data(ORDER, id=ids[2], minPosition=last["shipOrder"]["position"])

        pages = [
            (await api.data(CUSTOMER_ORDERS, customerId=customer, page=page, pageSize=2))[
                "customerOrders"
            ]
            for page in (1, 2, 3, 4)
        ]
        by_status = {
            status: (await api.data(CUSTOMER_ORDERS, customerId=customer, status=status))[
                "customerOrders"
            ]
            for status in ("PENDING", "SHIPPED", "CANCELLED")
        }
        defaults = (await api.data(CUSTOMER_ORDERS, customerId=customer))["customerOrders"]
        nobody = (await api.data(CUSTOMER_ORDERS, customerId=unique("nobody")))["customerOrders"]

    assert [(p["total"], p["page"], p["pageSize"], p["totalPages"]) for p in pages] == [
        (5, 1, 2, 3),
        (5, 2, 2, 3),
        (5, 3, 2, 3),
        (5, 4, 2, 3),
    ]
    listed = [order["id"] for page in pages for order in page["items"]]
    assert listed == ids[::-1], "newest first, each order once"
    assert all(order["customerId"] == customer for page in pages for order in page["items"])
    assert {status: page["total"] for status, page in by_status.items()} == {
        "PENDING": 2,
        "SHIPPED": 2,
        "CANCELLED": 1,
    }
    assert [order["id"] for order in by_status["PENDING"]["items"]] == [ids[4], ids[3]]
    assert all(order["status"] == "SHIPPED" for order in by_status["SHIPPED"]["items"])
    assert (defaults["page"], defaults["pageSize"], defaults["total"]) == (1, 20, 5)
    assert nobody == {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 0}


async def test_search_orders_filters_sorts_and_pages(server: Server) -> None:
    customer = unique("search")
    async with http_api(server) as api:
        cheap = await create_order(
            api, customer, items=[{"productId": "p-9", "quantity": 1, "unitPrice": "5"}]
        )
        middle = await create_order(api, customer)  # 29.98
        dear = await create_order(
            api, customer, items=[{"productId": "p-8", "quantity": 3, "unitPrice": "100.10"}]
        )
        cancelled = await api.data(CANCEL_ORDER, input={"orderId": cheap["orderId"], "reason": "x"})
        at = cancelled["cancelOrder"]["position"]

        async def search(**arguments: Any) -> dict[str, Any]:
            page: dict[str, Any] = (
                await api.data(SEARCH_ORDERS, query=customer, minPosition=at, **arguments)
            )["searchOrders"]
            return page

        everything = await search()
        by_total = await search(sortBy="TOTAL_AMOUNT", sortOrder="ASC")
        by_total_desc_page_2 = await search(sortBy="TOTAL_AMOUNT", pageSize=1, page=2)
        in_range = await search(filters={"minTotal": "10", "maxTotal": "300.30"})
        pending = await search(filters={"status": "PENDING", "customerId": customer})
        created_middle = middle["order"]["createdAt"]
        # the same instant written at another offset: createdAfter is inclusive
        same_instant = datetime.fromisoformat(created_middle).astimezone(
            timezone(timedelta(hours=5, minutes=30))
        )
        after = await search(filters={"createdAfter": same_instant.isoformat()})
        before = await search(filters={"createdBefore": created_middle}, sortOrder="ASC")
        by_product = (await api.data(SEARCH_ORDERS, query="P-8", filters={"customerId": customer}))[
            "searchOrders"
        ]
        by_nothing = (await api.data(SEARCH_ORDERS, query="", filters={"customerId": customer}))[
            "searchOrders"
        ]

    def ids(page: dict[str, Any]) -> list[str]:
        return [order["id"] for order in page["items"]]

    cheap_id, middle_id, dear_id = cheap["orderId"], middle["orderId"], dear["orderId"]
    assert ids(everything) == [dear_id, middle_id, cheap_id], "CREATED_AT DESC by default"
    assert (everything["total"], everything["page"], everything["pageSize"]) == (3, 1, 20)
    assert [o["totalAmount"] for o in by_total["items"]] == ["5.00", "29.98", "300.30"]
    assert ids(by_total_desc_page_2) == [middle_id]
    assert (by_total_desc_page_2["total"], by_total_desc_page_2["totalPages"]) == (3, 3)
    assert ids(in_range) == [dear_id, middle_id]
    assert ids(pending) == [dear_id, middle_id]
    assert ids(after) == [dear_id, middle_id]
    assert ids(before) == [cheap_id]
    assert ids(by_product) == [dear_id], "search is case-insensitive on product ids"
    assert by_nothing["total"] == 3, "a blank query matches every order"


async def test_customer_summary_counts_orders_and_spend_without_cancelled_ones(
    server: Server,
) -> None:
    customer = unique("summary")
    async with http_api(server) as api:
        first = await create_order(api, customer)
        second = await create_order(api, customer)
        third = await create_order(api, customer)
        await api.data(CANCEL_ORDER, input={"orderId": first["orderId"], "reason": "late"})
        shipped = await api.data(
            SHIP_ORDER,
            input={"orderId": second["orderId"], "carrier": "DPD", "trackingNumber": "7"},
        )
        summary = (
            await api.data(
                CUSTOMER_SUMMARY,
                customerId=customer,
                minPosition=shipped["shipOrder"]["position"],
            )
        )["customerSummary"]
        nobody = await api.data(CUSTOMER_SUMMARY, customerId=unique("nobody"))

    assert summary["customerId"] == customer
    assert (
        summary["orderCount"],
        summary["pendingCount"],
        summary["shippedCount"],
        summary["cancelledCount"],
    ) == (3, 1, 1, 1)
    assert summary["totalSpent"] == "59.96"
    assert utc_moment(summary["lastOrderAt"]) == utc_moment(third["order"]["createdAt"])
    assert nobody == {"customerSummary": None}


async def test_projections_report_positions_as_json_numbers(server: Server) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("projections"))
        await api.data(ORDER, id=created["orderId"], minPosition=created["position"])
        head = await head_position(api)
        statuses = (await api.data(PROJECTIONS))["projections"]

    assert [status["name"] for status in statuses] == ["order_views", "customer_summaries"]
    assert head >= created["position"]
    for status in statuses:
        assert all(is_json_integer(status[key]) for key in ("position", "headPosition", "lag"))
        assert status["position"] >= created["position"]
        assert status["lag"] == status["headPosition"] - status["position"] >= 0
        assert status["state"] == "RUNNING"
        assert status["lastError"] is None
        assert status["version"] == 1  # the tables the migrations created
        utc_moment(status["updatedAt"])
