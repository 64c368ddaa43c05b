"""Each hook into Strawberry's internals (schema/strawberry_hooks/), exercised on its own:
an upgrade of Strawberry that changes one of them fails here, by name."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import strawberry
from strawberry.types import ExecutionResult
from strawberry.types.base import get_object_definition

from schema.app import build_schema
from schema.inputs import AddressInput
from schema.settings import Settings
from schema.strawberry_hooks import FanOut, built_directly, documents, input_building
from tests.conftest import sqlite_url

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


fanout = FanOut()
SHARED = fanout.shared(Item(name="shared"))


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, shared_payload: bool = True) -> AsyncGenerator[Item, None]:
        yield SHARED if shared_payload else Item(name="own")


schema = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=fanout.execution_context_class
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

    encoded = [fanout.encode_message(message) for message in messages]

    assert [json.loads(text) for text in encoded if text is not None] == messages
    legacy = {"id": "1", "type": "data", "payload": {"data": result.data}}
    assert json.loads(fanout.encode_message(legacy) or "null") == legacy


def test_messages_that_may_differ_are_encoded_as_usual() -> None:
    data = {"items": {"name": "not from a shared execution"}}
    with_errors = {"id": "1", "type": "next", "payload": {"data": None, "errors": []}}

    assert fanout.encode_message({"id": "1", "type": "next", "payload": {"data": data}}) is None
    assert fanout.encode_message(with_errors) is None
    assert fanout.encode_message({"type": "connection_ack"}) is None


def test_a_source_keeps_its_shared_payload_until_it_changes() -> None:
    first, second = Item(name="a"), Item(name="b")

    payload = fanout.shared_of("key", first, lambda item: Item(name=item.name.upper()))

    assert fanout.shared_of("key", first, lambda item: Item(name="rebuilt")) is payload
    assert fanout.shared_of("key", second, lambda item: Item(name=item.name)).name == "b"


async def test_the_same_document_is_validated_once(tmp_path: Path) -> None:
    schema = build_schema(Settings(database_url=sqlite_url(tmp_path), projections=False))
    cache = documents._validation_errors
    document = "{ __typename repeated: __typename }"
    await schema.execute(document)
    before = cache.cache_info()

    for _ in range(3):
        result = await schema.execute(document)
        assert result.errors is None

    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)


async def test_the_cached_limits_still_refuse(tmp_path: Path) -> None:
    schema = build_schema(Settings(database_url=sqlite_url(tmp_path), projections=False))
    aliases = " ".join(f"a{i}: __typename" for i in range(documents.MAX_ALIASES + 1))

    for _ in range(2):
        result = await schema.execute(f"{{ {aliases} }}")
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


received: list[object] = []


@strawberry.type
class InputQuery:
    @strawberry.field
    def echo(self, address: AddressInput) -> str:
        received.append(address)
        return address.city


async def test_input_objects_are_built_from_the_coerced_values() -> None:
    received.clear()
    assert built_directly(AddressInput) is AddressInput
    # the hook is the definition's `from_input`, which Strawberry calls to build the input
    assert get_object_definition(AddressInput, strict=True).from_input is input_building._build
    schema = strawberry.Schema(query=InputQuery)

    result = await schema.execute(
        '{ echo(address: {name: "Ada", line1: "12 St James", city: "London", '
        'postalCode: "SW1", country: "GB"}) }'
    )

    assert result.errors is None
    assert result.data == {"echo": "London"}
    (address,) = received
    assert isinstance(address, AddressInput)
    assert address.line2 is None
