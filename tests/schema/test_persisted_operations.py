"""Persisted operations on real servers with authentication on: Apollo's automatic persisted
queries, and trusted documents (`cqrs-orders operations add`, PERSISTED_OPERATIONS=only), on
SQLite and PostgreSQL, and shared by two processes on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import gql
from gql.transport.exceptions import TransportQueryError

from tests.identity.served import AUTH_ENV, Served, bearer, served_fixture, websocket_as
from tests.schema.service import REQUEST_TIMEOUT, Server, serving, unique

served = served_fixture()
served_only = served_fixture({"PERSISTED_OPERATIONS": "only"})

STAFF = bearer("persisted-staff", "staff")
ROOT = Path(__file__).parent.parent.parent


def document() -> str:
    """A document no other test (or earlier run) has registered: its name is new."""
    return f"query {unique('Probe').replace('-', '_')} {{ projections {{ name }} }}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def post(
    server: Server, body: dict[str, Any], headers: dict[str, str] | None = STAFF
) -> httpx.Response:
    return httpx.post(server.graphql_url, json=body, headers=headers or {}, timeout=REQUEST_TIMEOUT)


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


def names_of(response: httpx.Response) -> list[str]:
    assert "errors" not in response.json(), response.json()
    return [p["name"] for p in response.json()["data"]["projections"]]


def register(database_url: str, tmp_path: Path, *texts: str) -> list[str]:
    """`cqrs-orders operations add` of one file per text; the hashes it prints."""
    files = []
    for number, text in enumerate(texts):
        path = tmp_path / f"operation-{number}.graphql"
        path.write_text(text)
        files.append(str(path))
    environment = os.environ | {"DATABASE_URL": database_url, "AUTH": "off"}
    ran = subprocess.run(
        [sys.executable, "-m", "schema.cli", "operations", "add", *files],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=REQUEST_TIMEOUT,
    )
    assert ran.returncode == 0, ran.stderr
    return [line.split()[0] for line in ran.stdout.splitlines()]


# automatic persisted queries


def test_apq_not_found_then_the_retry_with_the_document_then_the_hash_alone(
    served: Served,
) -> None:
    text = document()
    response = post(served.server, {"extensions": persisted(text)})
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code_of(response) == "PERSISTED_QUERY_NOT_FOUND"
    assert names_of(post(served.server, {"query": text, "extensions": persisted(text)}))
    assert names_of(post(served.server, {"extensions": persisted(text)}))


def test_apq_over_get_with_the_hash(served: Served) -> None:
    text = document()
    assert names_of(post(served.server, {"query": text, "extensions": persisted(text)}))
    response = httpx.get(
        served.server.graphql_url,
        params={"extensions": json.dumps(persisted(text))},
        headers=STAFF | {"Accept": "application/json"},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200
    assert names_of(response) == ["order_views", "customer_summaries"]


def test_a_hash_that_is_not_its_documents_is_refused_and_nothing_is_registered(
    served: Served,
) -> None:
    text, other = document(), document()
    response = post(served.server, {"query": text, "extensions": persisted(other)})
    assert code_of(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert code_of(post(served.server, {"extensions": persisted(other)})) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    malformed = {"persistedQuery": {"version": 1, "sha256Hash": "not a hash"}}
    response = post(served.server, {"query": text, "extensions": malformed})
    assert code_of(response) == "BAD_USER_INPUT"


def test_a_persisted_operation_does_not_bypass_authentication(served: Served) -> None:
    text = document()
    # without a token: refused, and not registered either
    response = post(served.server, {"query": text, "extensions": persisted(text)}, None)
    assert (response.status_code, code_of(response)) == (401, "UNAUTHENTICATED")
    assert code_of(post(served.server, {"extensions": persisted(text)})) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    # registered by a caller with a token, then asked for by hash without one
    assert names_of(post(served.server, {"query": text, "extensions": persisted(text)}))
    response = post(served.server, {"extensions": persisted(text)}, None)
    assert (response.status_code, code_of(response)) == (401, "UNAUTHENTICATED")


# trusted documents


def test_only_mode_refuses_an_unregistered_document_and_serves_a_registered_one(
    served_only: Served, tmp_path: Path
) -> None:
    server = served_only.server
    text, unregistered = document(), document()
    response = post(server, {"query": text})
    assert code_of(response) == "PERSISTED_QUERY_NOT_IN_LIST"
    # automatic registration is no way in: the hash and the document are refused alike
    response = post(server, {"query": text, "extensions": persisted(text)})
    assert code_of(response) == "PERSISTED_QUERY_NOT_IN_LIST"

    assert register(served_only.database_url, tmp_path, text) == [sha256(text)]
    assert names_of(post(server, {"extensions": persisted(text)}))
    assert names_of(post(server, {"query": text}))
    assert code_of(post(server, {"query": unregistered})) == "PERSISTED_QUERY_NOT_IN_LIST"
    # registered, and still no way around the token
    response = post(server, {"extensions": persisted(text)}, None)
    assert (response.status_code, code_of(response)) == (401, "UNAUTHENTICATED")


async def test_only_mode_holds_websocket_subscriptions_to_the_list(
    served_only: Served, tmp_path: Path
) -> None:
    name = unique("Watch").replace("-", "_")
    registered = f"subscription {name} {{ consistency(position: 0) {{ reached }} }}"
    unregistered = f"subscription {name}_other {{ consistency(position: 0) {{ reached }} }}"
    # registered as gql sends it: printed from its parsed document
    register(served_only.database_url, tmp_path, gql(registered).payload["query"])
    init = {"Authorization": STAFF["Authorization"]}
    async with websocket_as(
        served_only.server, "graphql-transport-ws", init_payload=init
    ) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(gql(unregistered)):
                pass
        assert refused.value.errors
        assert refused.value.errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        updates = [update async for update in session.subscribe(gql(registered))]
        assert updates[-1] == {"consistency": {"reached": True}}


def test_the_command_refuses_a_document_the_schema_does_not_validate(
    served: Served, tmp_path: Path
) -> None:
    path = tmp_path / "bad.graphql"
    path.write_text("{ noSuchField }")
    ran = subprocess.run(
        [sys.executable, "-m", "schema.cli", "operations", "add", str(path)],
        capture_output=True,
        text=True,
        env=os.environ | {"DATABASE_URL": served.database_url, "AUTH": "off"},
        cwd=ROOT,
        timeout=REQUEST_TIMEOUT,
    )
    assert ran.returncode == 2
    assert "is not a valid document" in ran.stderr


# two processes on PostgreSQL


def test_two_processes_share_persisted_operations_on_postgres(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    automatic, trusted = document(), document()
    only = AUTH_ENV | {"PERSISTED_OPERATIONS": "only"}
    with (
        serving("postgres", postgres_url, tmp_path_factory.mktemp("a"), AUTH_ENV) as first,
        serving("postgres", postgres_url, tmp_path_factory.mktemp("b"), AUTH_ENV) as second,
        serving("postgres", postgres_url, tmp_path_factory.mktemp("c"), only) as only_a,
        serving("postgres", postgres_url, tmp_path_factory.mktemp("d"), only) as only_b,
    ):
        # registered by one process's client, found by the other's
        assert code_of(post(second, {"extensions": persisted(automatic)})) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        assert names_of(post(first, {"query": automatic, "extensions": persisted(automatic)}))
        assert names_of(post(second, {"extensions": persisted(automatic)}))
        # a client's registration makes nothing trusted
        assert code_of(post(only_a, {"query": automatic})) == "PERSISTED_QUERY_NOT_IN_LIST"

        for server in (only_a, only_b):
            assert code_of(post(server, {"query": trusted})) == "PERSISTED_QUERY_NOT_IN_LIST"
        register(postgres_url, tmp_path_factory.mktemp("files"), trusted, automatic)
        for server in (only_a, only_b):
            assert names_of(post(server, {"extensions": persisted(trusted)}))
            assert names_of(post(server, {"query": automatic}))
