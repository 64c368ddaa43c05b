"""GraphQL over HTTP: the graphql-http conformance audit against a real server with
authentication on, and what `application/graphql-response+json` changes (and what
`application/json` keeps)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from schema.http_media import GRAPHQL_RESPONSE, JSON, accepted_media_type
from tests.identity.served import Served, bearer, served_fixture
from tests.schema.service import REQUEST_TIMEOUT

NPM_TOOLS = Path(__file__).parent.parent / "npm"
AUDIT = NPM_TOOLS / "audit.mjs"
INSTALL_TOOLS = f"npm ci --prefix {NPM_TOOLS} (scripts/test does it)"
AUDIT_TIMEOUT = 120.0

served = served_fixture()

STAFF = bearer("audit-staff", "staff")
PREFERS_GRAPHQL_RESPONSE = {"Accept": f"{GRAPHQL_RESPONSE}, {JSON};q=0.9"}


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None or not (NPM_TOOLS / "node_modules" / "graphql-http").is_dir():
        pytest.fail(
            f"node and the graphql-http audit are needed; install them with: {INSTALL_TOOLS}"
        )
    return path


def test_the_graphql_http_audit_finds_no_warning_and_no_error(node: str, served: Served) -> None:
    ran = subprocess.run(
        [node, str(AUDIT), served.server.graphql_url, json.dumps(STAFF)],
        capture_output=True,
        text=True,
        timeout=AUDIT_TIMEOUT,
        check=True,
    )
    results = [json.loads(line) for line in ran.stdout.splitlines()]
    by_status: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_status.setdefault(result["status"], []).append(result)
    assert by_status.get("warn", []) == []
    assert by_status.get("error", []) == []
    # the audit ran its checks: dozens of them pass
    assert len(by_status["ok"]) >= 50


def post(served: Served, body: object, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        served.server.graphql_url, json=body, headers=headers, timeout=REQUEST_TIMEOUT
    )


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        ("{ order(id: ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { order(id: $id) { id } }", {"id": ["not", "an id"]}, None),
    ],
    ids=["parse", "validation", "variables"],
)
def test_a_request_error_is_400_without_data_in_graphql_response_json(
    served: Served, document: str, variables: dict[str, Any] | None, code: str | None
) -> None:
    response = post(
        served, {"query": document, "variables": variables}, STAFF | PREFERS_GRAPHQL_RESPONSE
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert body["errors"]
    if code is not None:
        assert body["errors"][0]["extensions"]["code"] == code


def test_application_json_keeps_status_200_and_data(served: Served) -> None:
    response = post(served, {"query": "{ noSuchField }"}, STAFF | {"Accept": JSON})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_an_executed_result_with_errors_stays_200_in_graphql_response_json(
    served: Served,
) -> None:
    # the error happens in a resolver: a partial result, not a request error
    response = post(
        served,
        {"query": '{ customerOrders(customerId: "x", page: 0) { total } }'},
        STAFF | PREFERS_GRAPHQL_RESPONSE,
    )
    assert response.status_code == 200
    body = response.json()
    assert "data" in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["path"] == ["customerOrders"]


def test_an_unauthenticated_request_stays_401_in_graphql_response_json(served: Served) -> None:
    response = post(
        served, {"query": '{ customerOrders(customerId: "x") { total } }'}, PREFERS_GRAPHQL_RESPONSE
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE};q=oops", JSON),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html", JSON),
    ],
)
def test_the_accepted_media_type(accept: str | None, chosen: str) -> None:
    assert accepted_media_type(accept) == chosen
