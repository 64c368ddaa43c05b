"""Read-your-writes: a command's result and a read at its position never show an older order."""

from __future__ import annotations

from typing import Any

from tests.schema.service import (
    ADD_ORDER_ITEM,
    ORDER,
    REMOVE_ORDER_ITEM,
    SHIP_ORDER,
    Server,
    create_order,
    http_api,
    server_fixture,
    unique,
)

server = server_fixture()

COMMANDS = 100


async def test_a_hundred_commands_in_a_row_are_each_read_back_at_their_version(
    server: Server,
) -> None:
    async with http_api(server) as api:
        created = await create_order(api, unique("ryw"))
        order_id = created["orderId"]
        results: list[dict[str, Any]] = [created]
        reads: list[Any] = [await api.result(ORDER, id=order_id, minPosition=created["position"])]
        for number in range(1, COMMANDS - 1):
            if number % 2:  # add a product, then take it off again with the next command
                document, name = ADD_ORDER_ITEM, "addOrderItem"
                arguments = {"productId": f"x-{number}", "quantity": number, "unitPrice": "0.01"}
            else:
                document, name = REMOVE_ORDER_ITEM, "removeOrderItem"
                arguments = {"productId": f"x-{number - 1}"}
            result = (await api.data(document, input={"orderId": order_id, **arguments}))[name]
            results.append(result)
            reads.append(await api.result(ORDER, id=order_id, minPosition=result["position"]))
        shipped = (
            await api.data(
                SHIP_ORDER, input={"orderId": order_id, "carrier": "DHL", "trackingNumber": "R"}
            )
        )["shipOrder"]
        results.append(shipped)
        reads.append(await api.result(ORDER, id=order_id, minPosition=shipped["position"]))

    assert len(results) == len(reads) == COMMANDS
    assert [r["version"] for r in results] == list(range(1, COMMANDS + 1))
    positions = [r["position"] for r in results]
    assert positions == sorted(set(positions))
    assert [r["duplicate"] for r in results] == [False] * COMMANDS
    # the order the mutation itself answered with, once the projections had its position
    assert [r["order"]["version"] for r in results] == list(range(1, COMMANDS + 1))
    # and the order as a later read at that position sees it: never stale
    assert [read.data["order"]["version"] for read in reads] == list(range(1, COMMANDS + 1))
    assert [read.extensions or {} for read in reads] == [{}] * COMMANDS
    for number, (result, read) in enumerate(zip(results, reads, strict=True)):
        has_extra_line = number % 2 == 1 and number < COMMANDS - 1
        assert len(result["order"]["items"]) == 2 + has_extra_line, number
        assert read.data["order"] == result["order"], number
    assert results[-1]["order"]["status"] == "SHIPPED"
