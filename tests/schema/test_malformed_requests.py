"""Malformed requests get a 4xx or a coded GraphQL error: never a 500, a traceback or SQL."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
import websockets

from schema.limits import MAX_BODY_BYTES
from schema.strawberry_hooks.documents import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from tests.schema.service import REQUEST_TIMEOUT, Server, server_fixture

server = server_fixture()

# What a response must never show: a stack, the database layer or its SQL.
LEAKS = re.compile(
    r'Traceback|File "|\.py\b|sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg'
    r"|\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|\bDELETE FROM\b",
    re.IGNORECASE,
)
CODES = {"BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST"}
JSON = {"content-type": "application/json"}
SEARCH = "query($q: String!) { searchOrders(query: $q) { total } }"
FILTERED = 'query($f: OrderFilter) { searchOrders(query: "", filters: $f) { total } }'
PAGE = 'query($p: Int) { customerOrders(customerId: "c", page: $p) { total } }'
ORDER_AT = "query($id: ID!, $p: BigInt) { order(id: $id, minPosition: $p, timeoutMs: 0) { id } }"
CREATE = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { orderId } }"
CYCLE = (
    "{ projections { ...A } } fragment A on ProjectionStatus { ...B } "
    "fragment B on ProjectionStatus { ...A }"
)
DEEP_INTROSPECTION = (
    "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } }"
    " } } } } }"
)


def body(query: str, **variables: Any) -> dict[str, Any]:
    return {"json": {"query": query, "variables": variables}}


def raw(text: str | bytes) -> dict[str, Any]:
    content = text if isinstance(text, bytes) else text.encode()
    return {"content": content, "headers": JSON}


def get(query: str, variables: str | None = None) -> dict[str, Any]:
    params = {"query": query} if variables is None else {"query": query, "variables": variables}
    return {"params": params}


def create_input(**changes: Any) -> dict[str, Any]:
    return {
        "customerId": "malformed",
        "items": [{"productId": "p", "quantity": 1, "unitPrice": "1.00"}],
        "shippingAddress": {
            "name": "n",
            "line1": "l",
            "city": "c",
            "postalCode": "p",
            "country": "c",
        },
        **changes,
    }


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


def with_variables(query: str, variables_json: str) -> dict[str, Any]:
    """A body whose variables are written as given (JSON no encoder would write)."""
    return raw(f'{{"query": {json.dumps(query)}, "variables": {variables_json}}}')


def deep_selection(depth: int) -> str:
    selection = "leaf"
    for level in range(depth):
        selection = f"f{level} {{ {selection} }}"
    return f'{{ order(id: "{uuid4()}") {{ items {{ {selection} }} }} }}'


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: projections {{ name }}" for i in range(count)) + " }"


LIST_LITERAL = "{ searchOrders(query: " + nested(1500, '"x"') + ") { total } }"
TOO_LARGE = json.dumps({"query": "{ projections { name } }", "pad": "x" * MAX_BODY_BYTES})
# What strawberry itself refuses, as plain text: no code to check.
PLAIN_400 = None

# (id, HTTP method, httpx arguments, expected status, expected code of the first error)
CASES: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("body-not-json", "POST", raw('{"query": '), 400, PLAIN_400),
    ("body-a-batch", "POST", raw('[{"query": "{ projections { name } }"}]'), 400, PLAIN_400),
    ("body-without-query", "POST", raw("{}"), 400, PLAIN_400),
    ("query-not-a-string", "POST", raw('{"query": 5}'), 400, PLAIN_400),
    ("variables-not-an-object", "POST", with_variables(SEARCH, '"x"'), 400, PLAIN_400),
    ("form-encoded", "POST", {"data": {"query": "{ projections { name } }"}}, 400, PLAIN_400),
    ("text-plain", "POST", {"content": b"{ projections { name } }"}, 400, PLAIN_400),
    (
        "unknown-operation-name",
        "POST",
        {"json": {"query": "query A { projections { name } }", "operationName": "B"}},
        400,
        PLAIN_400,
    ),
    ("mutation-over-get", "GET", get(CREATE), 400, PLAIN_400),
    ("get-variables-not-json", "GET", get(SEARCH, "{"), 400, PLAIN_400),
    # these made strawberry's JSON decoding fail with a 500
    ("body-a-json-string", "POST", raw('"{ projections { name } }"'), 400, "BAD_REQUEST"),
    ("body-json-null", "POST", raw("null"), 400, "BAD_REQUEST"),
    ("body-a-number", "POST", raw("5"), 400, "BAD_REQUEST"),
    ("body-not-utf8", "POST", raw(b'{"query": "{ \xff }"}'), 400, "BAD_REQUEST"),
    (
        "variables-not-utf8",
        "POST",
        raw(b'{"query": "' + SEARCH.encode() + b'", "variables": {"q": "\xc3("}}'),
        400,
        "BAD_REQUEST",
    ),
    (
        "json-nested-too-deeply",
        "POST",
        with_variables(SEARCH, '{"q": ' + nested(5000) + "}"),
        400,
        "BAD_REQUEST",
    ),
    (
        "get-variables-nested-too-deeply",
        "GET",
        get(SEARCH, '{"q": ' + nested(2000) + "}"),
        400,
        "BAD_REQUEST",
    ),
    ("body-over-1-mib", "POST", raw(TOO_LARGE), 413, "PAYLOAD_TOO_LARGE"),
    (
        "json-nested-deeply-but-decodable",
        "POST",
        with_variables(SEARCH, '{"q": ' + nested(500) + "}"),
        200,
        "BAD_USER_INPUT",
    ),
    ("syntax-error", "POST", body("{ order("), 200, "GRAPHQL_PARSE_FAILED"),
    ("literal-nested-too-deeply", "POST", body(LIST_LITERAL), 200, "GRAPHQL_PARSE_FAILED"),
    (
        "too-many-tokens",
        "POST",
        body("{ projections { " + "name " * MAX_TOKENS + "} }"),
        200,
        "GRAPHQL_PARSE_FAILED",
    ),
    (
        "unknown-field",
        "POST",
        body("{ projections { name secret } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "unknown-argument",
        "POST",
        body("{ projections(all: true) { name } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "unknown-type",
        "POST",
        body("query($x: Nope) { projections { name } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    ("fragment-cycle", "POST", body(CYCLE), 200, "GRAPHQL_VALIDATION_FAILED"),
    (
        "query-deeper-than-the-limit",
        "POST",
        body(deep_selection(MAX_DEPTH)),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    ("introspection-too-deep", "POST", body(DEEP_INTROSPECTION), 200, "GRAPHQL_VALIDATION_FAILED"),
    ("too-many-aliases", "POST", body(aliases(MAX_ALIASES + 1)), 200, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown-input-field", "POST", body(CREATE, i=create_input(bogus=1)), 200, "BAD_USER_INPUT"),
    ("null-for-non-null-variable", "POST", body(SEARCH, q=None), 200, "BAD_USER_INPUT"),
    ("missing-non-null-variable", "POST", body(SEARCH), 200, "BAD_USER_INPUT"),
    ("string-for-int", "POST", body(PAGE, p="2"), 200, "BAD_USER_INPUT"),
    ("int-past-32-bits", "POST", body(PAGE, p=2**31), 200, "BAD_USER_INPUT"),
    ("unknown-enum-value", "POST", body(FILTERED, f={"status": "LOST"}), 200, "BAD_USER_INPUT"),
    ("decimal-abc", "POST", body(FILTERED, f={"minTotal": "abc"}), 200, "BAD_USER_INPUT"),
    ("decimal-as-float", "POST", body(FILTERED, f={"minTotal": 19.99}), 200, "BAD_USER_INPUT"),
    ("decimal-nan", "POST", body(FILTERED, f={"maxTotal": "NaN"}), 200, "BAD_USER_INPUT"),
    (
        "decimal-literal-abc",
        "POST",
        body('{ searchOrders(query: "", filters: {minTotal: "abc"}) { total } }'),
        200,
        "BAD_USER_INPUT",
    ),
    # past int64 cents these failed in the database driver (INTERNAL_SERVER_ERROR), and a huge
    # exponent made the read side build a million-digit integer (seconds of a blocked loop)
    ("decimal-1e30", "POST", body(FILTERED, f={"minTotal": "1e30"}), 200, "BAD_USER_INPUT"),
    (
        "decimal-1e999990",
        "POST",
        body(FILTERED, f={"maxTotal": "-1e999990"}),
        200,
        "BAD_USER_INPUT",
    ),
    ("bigint-x", "POST", body(ORDER_AT, id=str(uuid4()), p="x"), 200, "BAD_USER_INPUT"),
    (
        "bigint-past-64-bits",
        "POST",
        body(ORDER_AT, id=str(uuid4()), p=2**63),
        200,
        "BAD_USER_INPUT",
    ),
    ("bigint-float", "POST", body(ORDER_AT, id=str(uuid4()), p=1.5), 200, "BAD_USER_INPUT"),
    (
        "bigint-literal-x",
        "POST",
        body(f'{{ order(id: "{uuid4()}", minPosition: "x") {{ id }} }}'),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "datetime-without-offset",
        "POST",
        body(FILTERED, f={"createdAfter": "2026-11-23T10:15:00"}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "datetime-not-iso",
        "POST",
        body(FILTERED, f={"createdBefore": "yesterday"}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "datetime-out-of-range",
        "POST",
        body(FILTERED, f={"createdAfter": "0001-01-01T00:00:00+05:00"}),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "datetime-a-number",
        "POST",
        body(FILTERED, f={"createdAfter": 1700000000}),
        200,
        "BAD_USER_INPUT",
    ),
    # text no database stores: PostgreSQL refused it in the driver (INTERNAL_SERVER_ERROR)
    ("nul-in-variable", "POST", body(SEARCH, q="a\x00b"), 200, "BAD_USER_INPUT"),
    (
        "nul-in-literal",
        "POST",
        body('{ customerOrders(customerId: "a\\u0000b") { total } }'),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "nul-in-mutation-input",
        "POST",
        body(CREATE, i=create_input(customerId="\x00")),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "lone-surrogate-in-variable",
        "POST",
        with_variables(SEARCH, '{"q": "\\ud800"}'),
        200,
        "BAD_USER_INPUT",
    ),
    (
        "lone-surrogate-in-literal",
        "POST",
        raw(json.dumps({"query": '{ searchOrders(query: "\\ud800") { total } }'})),
        200,
        "GRAPHQL_PARSE_FAILED",
    ),
    # subscriptions stream over the websocket; over HTTP they ran as a query (a masked 500)
    (
        "subscription-over-post",
        "POST",
        body("subscription { projectionUpdates { name } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "subscription-over-get",
        "GET",
        get("subscription { consistency(position: 0) { reached } }"),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
]


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "arguments", "status", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_a_malformed_request_is_refused_as_the_clients_fault(
    client: httpx.AsyncClient,
    method: str,
    arguments: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    response = await client.request(method, "/graphql", **arguments)

    assert response.status_code == status, response.text[:500]
    assert not LEAKS.search(response.text), response.text[:2000]
    if code is None:
        return
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == code, errors
    assert {error["extensions"]["code"] for error in errors} <= CODES | {"PAYLOAD_TOO_LARGE"}
    assert all(error["message"] for error in errors)


async def test_the_limits_say_which_limit_was_hit(client: httpx.AsyncClient) -> None:
    async def messages(query: str) -> str:
        response = await client.post("/graphql", json={"query": query})
        return " | ".join(error["message"] for error in response.json()["errors"])

    assert f"maximum operation depth of {MAX_DEPTH}" in await messages(deep_selection(MAX_DEPTH))
    assert "Maximum introspection depth exceeded" in await messages(DEEP_INTROSPECTION)
    assert f"Allowed: {MAX_ALIASES}" in await messages(aliases(MAX_ALIASES + 1))
    assert f"more than {MAX_TOKENS} tokens" in await messages("{ x " + "y " * MAX_TOKENS + "}")
    assert "Document is nested too deeply" in await messages(LIST_LITERAL)


async def test_text_that_cannot_be_stored_names_the_input_field(client: httpx.AsyncClient) -> None:
    items = [
        {"productId": "ok", "quantity": 1, "unitPrice": "1"},
        {"productId": "p\x00", "quantity": 1, "unitPrice": "1"},
    ]
    response = await client.post("/graphql", **body(CREATE, i=create_input(items=items)))

    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "items[1].productId",
    }


async def test_a_websocket_message_nested_too_deeply_closes_the_connection_as_a_bad_request(
    server: Server,
) -> None:
    async with websockets.connect(
        server.websocket_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as connection:
        await connection.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await connection.recv()) == {"type": "connection_ack"}
        await connection.send('{"id": "1", "type": "subscribe", "payload": ' + nested(5000) + "}")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await connection.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400
