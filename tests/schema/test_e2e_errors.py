"""The contract's error codes end to end, a failed command appending nothing, and idempotency.

UNAUTHENTICATED and FORBIDDEN apply only when authentication is enabled; the service has
none, so they cannot occur and are not tested here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from tests.schema.service import (
    ADD_ORDER_ITEM,
    CANCEL_ORDER,
    CREATE_ORDER,
    ORDER,
    REMOVE_ORDER_ITEM,
    SHIP_ORDER,
    Api,
    Server,
    create_order,
    create_order_input,
    head_position,
    http_api,
    server_fixture,
    unique,
)

server = server_fixture()

Input = Callable[[str], dict[str, Any]]  # the id of an existing PENDING order -> an input


def _create(**changes: Any) -> Input:
    return lambda order_id: create_order_input(unique("bad"), **changes)


def _item(**changes: Any) -> dict[str, Any]:
    return {"productId": "p-1", "quantity": 1, "unitPrice": "1.00", **changes}


def _address(**changes: Any) -> dict[str, Any]:
    return {**create_order_input("x")["shippingAddress"], **changes}


def _add(**changes: Any) -> Input:
    return lambda order_id: {
        "orderId": order_id,
        "productId": "p-7",
        "quantity": 1,
        "unitPrice": "1.00",
        **changes,
    }


def _remove(**changes: Any) -> Input:
    return lambda order_id: {"orderId": order_id, "productId": "p-2", **changes}


def _ship(**changes: Any) -> Input:
    return lambda order_id: {
        "orderId": order_id,
        "carrier": "DHL",
        "trackingNumber": "T-1",
        **changes,
    }


def _cancel(**changes: Any) -> Input:
    return lambda order_id: {"orderId": order_id, "reason": "no longer needed", **changes}


REFUSED_COMMANDS: list[tuple[str, Input, str]] = [
    (CREATE_ORDER, _create(items=[]), "items"),
    (CREATE_ORDER, _create(items=[_item(quantity=0)]), "items[0].quantity"),
    (
        CREATE_ORDER,
        _create(items=[_item(), _item(productId="p-2", unitPrice="-1")]),
        "items[1].unitPrice",
    ),
    (CREATE_ORDER, _create(items=[_item(unitPrice="9.999")]), "items[0].unitPrice"),
    (CREATE_ORDER, _create(items=[_item(productId=" ")]), "items[0].productId"),
    (
        CREATE_ORDER,
        _create(shippingAddress=_address(postalCode="  ")),
        "shippingAddress.postalCode",
    ),
    (CREATE_ORDER, _create(customerId="c" * 201), "customerId"),
    (CREATE_ORDER, _create(commandId="not-a-uuid"), "commandId"),
    (CREATE_ORDER, _create(customerId="nul\x00"), "customerId"),
    (ADD_ORDER_ITEM, _add(orderId="not-a-uuid"), "orderId"),
    (ADD_ORDER_ITEM, _add(quantity=10_001), "quantity"),
    (ADD_ORDER_ITEM, _add(productId="p-1", unitPrice="8.00"), "unitPrice"),
    (ADD_ORDER_ITEM, _add(expectedVersion=-1), "expectedVersion"),
    (REMOVE_ORDER_ITEM, _remove(productId="p-404"), "productId"),
    (REMOVE_ORDER_ITEM, _remove(orderId="12345"), "orderId"),
    (SHIP_ORDER, _ship(carrier=""), "carrier"),
    (SHIP_ORDER, _ship(trackingNumber="t" * 201), "trackingNumber"),
    (CANCEL_ORDER, _cancel(reason="   "), "reason"),
    (CANCEL_ORDER, _cancel(reason="r" * 501), "reason"),
    (CANCEL_ORDER, _cancel(commandId="{not-a-uuid}"), "commandId"),
]


async def order_version(api: Api, order_id: str, position: int) -> int:
    order = (await api.data(ORDER, id=order_id, minPosition=position))["order"]
    version: int = order["version"]
    return version


def mutation_name(document: str) -> str:
    return next(
        name for name in ("create", "add", "remove", "ship", "cancel") if name in document.lower()
    )


@pytest.mark.parametrize(
    ("document", "make_input", "field"),
    REFUSED_COMMANDS,
    ids=[f"{mutation_name(d)}-{field}" for d, _, field in REFUSED_COMMANDS],
)
async def test_an_invalid_command_is_bad_user_input_naming_its_field_and_appends_nothing(
    server: Server, document: str, make_input: Input, field: str
) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("victim"))
        head = await head_position(api)
        error = await api.error(document, input=make_input(created["orderId"]))
        head_after = await head_position(api)
        version = await order_version(api, created["orderId"], created["position"])

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"] and "Traceback" not in error["message"]
    assert head_after == head, "a refused command appended an event"
    assert version == 1


@pytest.mark.parametrize(
    ("document", "make_input"),
    [
        (ADD_ORDER_ITEM, _add()),
        (REMOVE_ORDER_ITEM, _remove()),
        (SHIP_ORDER, _ship()),
        (CANCEL_ORDER, _cancel()),
    ],
    ids=["add", "remove", "ship", "cancel"],
)
async def test_a_command_on_an_order_that_does_not_exist_is_not_found(
    server: Server, document: str, make_input: Input
) -> None:
    missing = str(uuid4())
    async with http_api(server) as api:
        head = await head_position(api)
        error = await api.error(document, input=make_input(missing))
        head_after = await head_position(api)
        order = await api.data(ORDER, id=missing)

    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert missing in error["message"]
    assert head_after == head
    assert order == {"order": None}


@pytest.mark.parametrize(
    ("document", "make_input"),
    [
        (ADD_ORDER_ITEM, _add()),
        (REMOVE_ORDER_ITEM, _remove()),
        (SHIP_ORDER, _ship()),
        (CANCEL_ORDER, _cancel()),
    ],
    ids=["add", "remove", "ship", "cancel"],
)
async def test_a_command_expecting_another_version_is_a_conflict(
    server: Server, document: str, make_input: Input
) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("conflict"))
        head = await head_position(api)
        stale = await api.error(
            document, input={**make_input(created["orderId"]), "expectedVersion": 0}
        )
        ahead = await api.error(
            document, input={**make_input(created["orderId"]), "expectedVersion": 2}
        )
        head_after = await head_position(api)
        version = await order_version(api, created["orderId"], created["position"])

    assert stale["extensions"] == ahead["extensions"] == {"code": "CONFLICT"}
    assert "version 1" in ahead["message"]
    assert head_after == head
    assert version == 1


async def test_the_expected_version_lets_a_command_through_when_it_matches(server: Server) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("expected"))
        cancelled = await api.data(
            CANCEL_ORDER, input={**_cancel()(created["orderId"]), "expectedVersion": 1}
        )

    assert cancelled["cancelOrder"]["version"] == 2


async def test_commands_the_status_forbids_are_invalid_state(server: Server) -> None:
    async with http_api(server) as api:
        shipped = await create_order(api, unique("state"))
        shipped_at = (await api.data(SHIP_ORDER, input=_ship()(shipped["orderId"])))["shipOrder"]
        cancelled = await create_order(api, unique("state"))
        cancelled_at = (await api.data(CANCEL_ORDER, input=_cancel()(cancelled["orderId"])))[
            "cancelOrder"
        ]
        single = await create_order(api, unique("state"), items=[_item()])
        head = await head_position(api)
        refusals = {
            "add to shipped": await api.error(ADD_ORDER_ITEM, input=_add()(shipped["orderId"])),
            "remove from shipped": await api.error(
                REMOVE_ORDER_ITEM, input=_remove()(shipped["orderId"])
            ),
            "cancel shipped": await api.error(CANCEL_ORDER, input=_cancel()(shipped["orderId"])),
            "ship shipped": await api.error(SHIP_ORDER, input=_ship()(shipped["orderId"])),
            "ship cancelled": await api.error(SHIP_ORDER, input=_ship()(cancelled["orderId"])),
            "add to cancelled": await api.error(ADD_ORDER_ITEM, input=_add()(cancelled["orderId"])),
            "cancel cancelled": await api.error(
                CANCEL_ORDER, input=_cancel()(cancelled["orderId"])
            ),
            "remove last item": await api.error(
                REMOVE_ORDER_ITEM, input=_remove(productId="p-1")(single["orderId"])
            ),
        }
        head_after = await head_position(api)
        versions = [
            await order_version(api, shipped["orderId"], shipped_at["position"]),
            await order_version(api, cancelled["orderId"], cancelled_at["position"]),
            await order_version(api, single["orderId"], single["position"]),
        ]

    assert {what: error["extensions"] for what, error in refusals.items()} == {
        what: {"code": "INVALID_STATE"} for what in refusals
    }
    assert head_after == head
    assert versions == [2, 2, 1]


async def test_a_retried_command_is_handled_once_and_answers_its_first_result(
    server: Server,
) -> None:
    command_id = str(uuid4())
    customer = unique("retry")
    async with http_api(server) as api:
        first = await create_order(api, customer, commandId=command_id)
        head = await head_position(api)
        again = await create_order(api, customer, commandId=command_id)
        head_after = await head_position(api)

    assert (first["duplicate"], again["duplicate"]) == (False, True)
    for key in ("commandId", "orderId", "streamId", "version", "position"):
        assert again[key] == first[key], key
    assert again["order"] == first["order"]
    assert head_after == head


async def test_a_retry_after_the_order_moved_on_still_answers_the_first_result(
    server: Server,
) -> None:
    command_id = str(uuid4())
    async with http_api(server) as api:
        created = await create_order(api, unique("retry-late"))
        add = {**_add()(created["orderId"]), "commandId": command_id}
        first = (await api.data(ADD_ORDER_ITEM, input=add))["addOrderItem"]
        await api.data(SHIP_ORDER, input=_ship()(created["orderId"]))
        head = await head_position(api)
        # the order is SHIPPED now: a new add would be INVALID_STATE, this retry is not new
        again = (await api.data(ADD_ORDER_ITEM, input=add))["addOrderItem"]
        head_after = await head_position(api)

    assert again["duplicate"] is True
    assert (
        (again["version"], again["position"])
        == (first["version"], first["position"])
        == (2, first["position"])
    )
    assert head_after == head


async def test_a_command_id_reused_for_another_command_is_bad_user_input(server: Server) -> None:
    command_id = str(uuid4())
    async with http_api(server) as api:
        created = await create_order(api, unique("reuse"), commandId=command_id)
        head = await head_position(api)
        other_input = await api.error(
            CREATE_ORDER, input=create_order_input(unique("reuse"), commandId=command_id)
        )
        other_command = await api.error(
            CANCEL_ORDER, input={**_cancel()(created["orderId"]), "commandId": command_id}
        )
        head_after = await head_position(api)

    assert other_input["extensions"] == {"code": "BAD_USER_INPUT", "field": "commandId"}
    assert other_command["extensions"] == {"code": "BAD_USER_INPUT", "field": "commandId"}
    assert head_after == head


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("query($id: ID!) { order(id: $id) { id } }", {"id": "not-a-uuid"}, "id"),
        (
            "query($id: ID!, $t: Int) { order(id: $id, timeoutMs: $t) { id } }",
            {"id": str(uuid4()), "t": 60_001},
            "timeoutMs",
        ),
        (
            "query($id: ID!, $p: BigInt) { order(id: $id, minPosition: $p) { id } }",
            {"id": str(uuid4()), "p": -1},
            "minPosition",
        ),
        (
            'query($s: Int) { customerOrders(customerId: "c", pageSize: $s) { total } }',
            {"s": 101},
            "pageSize",
        ),
        (
            'query($p: Int) { customerOrders(customerId: "c", page: $p) { total } }',
            {"p": 0},
            "page",
        ),
        ("query($q: String!) { searchOrders(query: $q) { total } }", {"q": "q" * 201}, "query"),
        (
            "query($c: ID!) { customerSummary(customerId: $c) { orderCount } }",
            {"c": "a\x00b"},
            "customerId",
        ),
    ],
    ids=[
        "id",
        "timeoutMs",
        "minPosition",
        "pageSize",
        "page",
        "query",
        "nul",
    ],
)
async def test_a_query_refused_for_its_arguments_is_bad_user_input_naming_the_argument(
    server: Server, query: str, variables: dict[str, Any], field: str
) -> None:
    async with http_api(server) as api:
        error = await api.error(query, **variables)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
