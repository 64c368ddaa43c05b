"""Subscribers of the same document share the execution and encoding of a shared payload."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import ExecutionResult

from schema.fanout import SharedEventExecutor, encode_message, shared

executions: list[str] = []


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def label(self, prefix: str = "") -> str:
        executions.append(self.name)
        return prefix + self.name


@strawberry.type
class Query:
    ok: bool = True


SHARED = shared(Item(name="shared"))


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, shared_payload: bool = True) -> AsyncGenerator[Item, None]:
        yield SHARED if shared_payload else Item(name="own")


schema = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=SharedEventExecutor
)


async def first_result(query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
    stream = await schema.subscribe(query, variable_values=variables)
    try:
        result = await anext(stream)
    finally:
        await stream.aclose()
    assert isinstance(result, ExecutionResult)
    return result


async def test_subscribers_of_one_document_share_one_execution_of_a_shared_payload() -> None:
    executions.clear()
    query = "subscription { items { label } }"

    results = [await first_result(query) for _ in range(3)]

    assert executions == ["shared"]
    assert [r.data for r in results] == [{"items": {"label": "shared"}}] * 3


async def test_other_variables_or_unshared_payloads_execute_for_each_subscriber() -> None:
    executions.clear()
    query = "subscription($p: String!) { items { label(prefix: $p) } }"

    a = await first_result(query, {"p": "a:"})
    b = await first_result(query, {"p": "b:"})
    unshared = "subscription { items(sharedPayload: false) { label } }"
    await first_result(unshared)
    await first_result(unshared)

    assert (a.data, b.data) == ({"items": {"label": "a:shared"}}, {"items": {"label": "b:shared"}})
    assert executions == ["shared", "shared", "own", "own"]


async def test_a_shared_result_is_encoded_once_and_differs_only_in_the_operation_id() -> None:
    result = await first_result("subscription { items { name } }")
    messages = [
        {"id": operation_id, "type": "next", "payload": {"data": result.data}}
        for operation_id in ("1", 'two "quoted"')
    ]

    encoded = [encode_message(message) for message in messages]

    assert [json.loads(text) for text in encoded if text is not None] == messages
    legacy = {"id": "1", "type": "data", "payload": {"data": result.data}}
    assert json.loads(encode_message(legacy) or "null") == legacy


def test_messages_that_may_differ_are_encoded_as_usual() -> None:
    data = {"items": {"name": "not from a shared execution"}}
    with_errors = {"id": "1", "type": "next", "payload": {"data": None, "errors": []}}

    assert encode_message({"id": "1", "type": "next", "payload": {"data": data}}) is None
    assert encode_message(with_errors) is None
    assert encode_message({"type": "connection_ack"}) is None
