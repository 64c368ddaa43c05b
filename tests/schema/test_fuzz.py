"""Schemathesis fuzzes every query and mutation of a running server: never a server error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from graphql import build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema

import schema
from tests.schema.service import REQUEST_TIMEOUT, Server, server_fixture

server = server_fixture()

# Cases per operation and backend: about 15 s per backend for the ten operations.
EXAMPLES = 75
# Every code the contract lets a refusal carry (no authentication: no UNAUTHENTICATED/FORBIDDEN).
CONTRACT_CODES = {
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "INVALID_STATE",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_REQUEST",
}
SDL = build_schema((Path(schema.__file__).parent / "schema.graphql").read_text())
OPERATIONS = [
    f"{root.name}.{field}"
    for root in (SDL.query_type, SDL.mutation_type)
    if root
    for field in root.fields
]


def mostly(
    valid: st.SearchStrategy[str], invalid: st.SearchStrategy[str]
) -> st.SearchStrategy[Any]:
    """Half valid values, so that cases get past the first check to the code behind it."""
    return st.one_of(valid, invalid).map(nodes.String)


# IDs: UUIDs (orderId, commandId must be one) or any text.
schemathesis.graphql.scalar("ID", mostly(st.uuids().map(str), st.text(max_size=40)))
# Text, including what a database may not store or a search may misread.
TRICKY = ["\x00", "a\x00b", "%", "_", "\\", '"', "' OR '1'='1", "\u202e", "😀", " ", "x" * 201]
schemathesis.graphql.scalar(
    "String",
    mostly(
        st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=20),
        st.one_of(st.sampled_from(TRICKY), st.text(max_size=30)),
    ),
)
# Prices with cents, and amounts no money has.
schemathesis.graphql.scalar(
    "Decimal",
    mostly(
        st.decimals(min_value=0, max_value=10_000, places=2).map(str),
        st.one_of(
            st.decimals().map(str),
            st.sampled_from(["1e30", "-1e999990", "1E+15", "9.995", " 5 ", "-0.01", "NaN"]),
            st.text(max_size=12),
        ),
    ),
)
# BigInt only ever asks for positions already reached (0 or less) or refused ones: a position
# reached later would hold a read open for timeoutMs (up to a minute), spending the budget on
# waiting rather than on inputs.
schemathesis.graphql.scalar(
    "BigInt",
    st.one_of(
        st.integers(max_value=0).map(nodes.Int),
        st.sampled_from([2**63, -(2**63) - 1, 10**30]).map(nodes.Int),
        st.text(max_size=8).map(nodes.String),
    ),
)
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=14))]
)
schemathesis.graphql.scalar(
    "DateTime",
    mostly(
        st.datetimes(timezones=OFFSETS).map(datetime.isoformat),
        st.one_of(
            st.datetimes().map(datetime.isoformat),  # no offset
            st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "now"]),
            st.text(max_size=12),
        ),
    ),
)


@pytest.fixture(scope="module")
def live_schema(server: Server) -> GraphQLSchema:
    """The schema as the server introspects it (the committed SDL only names the tests)."""
    loaded: GraphQLSchema = schemathesis.graphql.from_url(server.graphql_url)
    return loaded


def server_errors(response: requests.Response) -> list[Any]:
    """What in a response is the server's fault rather than the request's."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:500]}"]
    if response.status_code >= 400:
        return []
    errors = response.json().get("errors") or []
    return [
        error
        for error in errors
        if (error.get("extensions") or {}).get("code") not in CONTRACT_CODES
    ]


@pytest.mark.parametrize("label", OPERATIONS)
def test_a_fuzzed_operation_never_fails_on_the_server(
    server: Server, live_schema: GraphQLSchema, label: str
) -> None:
    operation = live_schema.find_operation_by_label(label)
    assert operation is not None, f"the server does not serve {label}"
    sent = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        print_blob=True,  # a failure prints how to replay it
        suppress_health_check=list(HealthCheck),
    )
    def never_a_server_error(case: Any) -> None:
        nonlocal sent
        sent += 1
        response = case.call(base_url=server.graphql_url, timeout=REQUEST_TIMEOUT)
        assert server_errors(response) == [], case.body

    never_a_server_error()
    assert sent >= EXAMPLES // 2, f"only {sent} cases were sent"
