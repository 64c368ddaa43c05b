"""Who may do what, through a real server on both backends: staff run the shop, a customer
acts on their own orders only, and what is refused appends nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.identity.served import Served, bearer, post, served_fixture, staff, token
from tests.schema.service import (
    ADD_ORDER_ITEM,
    CANCEL_ORDER,
    CREATE_ORDER,
    ORDER,
    PROJECTIONS,
    SHIP_ORDER,
    create_order_input,
    http_api,
    unique,
)

served = served_fixture()

CUSTOMER_ORDERS = """
query Orders($customerId: ID!) { customerOrders(customerId: $customerId) { total items { id } } }
"""
CUSTOMER_SUMMARY = """
query Summary($customerId: ID!) { customerSummary(customerId: $customerId) { orderCount } }
"""
SEARCH = """
query Search($filters: OrderFilter) {
  searchOrders(query: "", filters: $filters, pageSize: 100) { total items { id customerId } }
}
"""
INTROSPECTION = "query { __schema { queryType { name } } }"


async def create_for(served: Served, customer: str, **changes: Any) -> dict[str, Any]:
    async with http_api(served.server, bearer(customer)) as api:
        data = await api.data(CREATE_ORDER, input=create_order_input(customer, **changes))
    created: dict[str, Any] = data["createOrder"]
    return created


async def test_no_token_is_401_with_a_bearer_challenge(served: Served) -> None:
    response = await post(served.server, PROJECTIONS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body.get("data") is None


async def test_a_refused_token_is_401_and_says_invalid_token(served: Served) -> None:
    expired = token("ada", ttl=-timedelta(minutes=5))
    for value in (f"Bearer {expired}", "Bearer not-a-token", f"Basic {expired}"):
        response = await post(served.server, PROJECTIONS, {"Authorization": value})

        assert response.status_code == 401, value
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "not-a-token" not in "".join(served.server.lines)


async def test_introspection_alone_is_answered_without_a_token(served: Served) -> None:
    response = await post(served.server, INTROSPECTION)

    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_a_customer_creates_orders_for_themselves_only(served: Served) -> None:
    ada, bob = unique("ada"), unique("bob")
    created = await create_for(served, ada)
    before = await served.count_events()

    async with http_api(served.server, bearer(ada)) as api:
        refused = await api.error(CREATE_ORDER, input=create_order_input(bob))

    assert created["order"]["customerId"] == ada
    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert await served.count_events() == before


async def test_another_customers_order_is_not_found_for_every_command(served: Served) -> None:
    ada, bob = unique("ada"), unique("bob")
    order_id = (await create_for(served, ada))["orderId"]
    before = await served.count_events()

    async with http_api(served.server, bearer(bob)) as api:
        add = await api.error(
            ADD_ORDER_ITEM,
            input={"orderId": order_id, "productId": "p-9", "quantity": 1, "unitPrice": "1"},
        )
        cancel = await api.error(CANCEL_ORDER, input={"orderId": order_id, "reason": "mine now"})
        read = await api.data(ORDER, id=order_id)

    assert add["extensions"]["code"] == cancel["extensions"]["code"] == "NOT_FOUND"
    assert read == {"order": None}
    assert await served.count_events() == before


async def test_only_staff_ship(served: Served) -> None:
    ada = unique("ada")
    order_id = (await create_for(served, ada))["orderId"]
    ship = {"orderId": order_id, "carrier": "DHL", "trackingNumber": "T-1"}

    async with http_api(served.server, bearer(ada)) as api:
        refused = await api.error(SHIP_ORDER, input=ship)
    async with http_api(served.server, staff()) as api:
        shipped = await api.data(SHIP_ORDER, input=ship)

    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert shipped["shipOrder"]["order"]["status"] == "SHIPPED"


async def test_staff_act_on_every_customers_orders(served: Served) -> None:
    ada = unique("ada")
    async with http_api(served.server, staff()) as api:
        created = (await api.data(CREATE_ORDER, input=create_order_input(ada)))["createOrder"]
        cancelled = await api.data(
            CANCEL_ORDER, input={"orderId": created["orderId"], "reason": "asked by phone"}
        )
        orders = await api.data(CUSTOMER_ORDERS, customerId=ada)

    assert created["order"]["customerId"] == ada
    assert cancelled["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert orders["customerOrders"]["total"] == 1


async def test_a_refused_command_id_stays_unused(served: Served) -> None:
    ada, bob = unique("ada"), unique("bob")
    command_id = "6f1c1c3e-4f7e-4f1e-9c55-" + unique("x")[-12:].rjust(12, "0")

    async with http_api(served.server, bearer(bob)) as api:
        refused = await api.error(CREATE_ORDER, input=create_order_input(ada, commandId=command_id))
    async with http_api(served.server, bearer(ada)) as api:
        created = await api.data(CREATE_ORDER, input=create_order_input(ada, commandId=command_id))

    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert created["createOrder"]["duplicate"] is False
    assert created["createOrder"]["commandId"] == command_id


async def test_a_customer_reads_only_their_own_orders(served: Served) -> None:
    ada, bob = unique("ada"), unique("bob")
    await create_for(served, ada)
    await create_for(served, bob)

    async with http_api(served.server, bearer(ada)) as api:
        own = await api.data(CUSTOMER_ORDERS, customerId=ada)
        others = await api.error(CUSTOMER_ORDERS, customerId=bob)
        summary = await api.error(CUSTOMER_SUMMARY, customerId=bob)
        searched = await api.data(SEARCH)
        filtered = await api.error(SEARCH, filters={"customerId": bob})

    assert own["customerOrders"]["total"] == 1
    assert others["extensions"]["code"] == summary["extensions"]["code"] == "FORBIDDEN"
    assert filtered["extensions"]["code"] == "FORBIDDEN"
    found = searched["searchOrders"]["items"]
    assert found and {item["customerId"] for item in found} == {ada}


async def test_every_event_records_its_actor(served: Served) -> None:
    ada = unique("ada")
    created = await create_for(served, ada)
    async with http_api(served.server, staff()) as api:
        await api.data(
            SHIP_ORDER,
            input={"orderId": created["orderId"], "carrier": "DHL", "trackingNumber": "T-2"},
        )

    metadata = await served.events_metadata(created["streamId"])

    assert [m["actor"] for m in metadata] == [
        {"sub": ada, "roles": []},
        {"sub": "shop-staff", "roles": ["staff"]},
    ]


async def test_last_error_is_for_staff_only(served: Served) -> None:
    await served.mark_failed("customer_summaries", "poisoned event at position 7")
    try:
        async with http_api(served.server, bearer(unique("ada"))) as api:
            customer = await api.data(PROJECTIONS)
        async with http_api(served.server, staff()) as api:
            shop = await api.data(PROJECTIONS)
    finally:
        await served.mark_failed("customer_summaries", None)

    def failed(answer: dict[str, Any]) -> dict[str, Any]:
        (status,) = [p for p in answer["projections"] if p["name"] == "customer_summaries"]
        return status

    assert failed(customer)["state"] == failed(shop)["state"] == "FAILED"
    assert failed(customer)["lastError"] is None
    assert failed(shop)["lastError"] == "poisoned event at position 7"
