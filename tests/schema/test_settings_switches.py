"""GRAPHIQL=off and GRAPHQL_INTROSPECTION=off switch GraphiQL and introspection off."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from schema.graphiql import ASSETS_PATH
from tests.conftest import sqlite_url
from tests.schema.service import REQUEST_TIMEOUT, Server, serving

HTML = {"accept": "text/html"}
INTROSPECTION = {"query": "{ __schema { queryType { name } } }"}
TYPE_INTROSPECTION = {"query": '{ __type(name: "Order") { fields { name } } }'}
PLAIN_QUERY = {"query": "{ __typename projections { name } }"}


def served(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("switches")
    with serving("sqlite", sqlite_url(directory), directory, env) as server:
        yield server


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from served(tmp_path_factory)


@pytest.fixture(scope="module")
def locked_down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from served(tmp_path_factory, GRAPHIQL="off", GRAPHQL_INTROSPECTION="off")


def test_by_default_graphiql_is_served_to_a_browser(default_server: Server) -> None:
    page = httpx.get(default_server.graphql_url, headers=HTML, timeout=REQUEST_TIMEOUT)
    script = httpx.get(f"{default_server.base_url}{ASSETS_PATH}/init.js", timeout=REQUEST_TIMEOUT)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"{ASSETS_PATH}/init.js" in page.text
    assert script.status_code == 200


def test_by_default_introspection_answers(default_server: Server) -> None:
    response = httpx.post(default_server.graphql_url, json=INTROSPECTION, timeout=REQUEST_TIMEOUT)

    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_graphiql_off_serves_no_page_and_no_assets(locked_down_server: Server) -> None:
    page = httpx.get(locked_down_server.graphql_url, headers=HTML, timeout=REQUEST_TIMEOUT)
    script = httpx.get(
        f"{locked_down_server.base_url}{ASSETS_PATH}/init.js", timeout=REQUEST_TIMEOUT
    )

    assert 400 <= page.status_code < 500
    assert not page.headers["content-type"].startswith("text/html")
    assert "graphiql" not in page.text.lower()
    assert script.status_code == 404


@pytest.mark.parametrize("query", [INTROSPECTION, TYPE_INTROSPECTION], ids=["schema", "type"])
def test_introspection_off_refuses_an_introspection_query_with_an_error(
    locked_down_server: Server, query: dict[str, str]
) -> None:
    response = httpx.post(locked_down_server.graphql_url, json=query, timeout=REQUEST_TIMEOUT)

    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in body["errors"][0]["message"].lower()


def test_introspection_off_still_answers_ordinary_queries(locked_down_server: Server) -> None:
    response = httpx.post(locked_down_server.graphql_url, json=PLAIN_QUERY, timeout=REQUEST_TIMEOUT)

    assert response.json() == {
        "data": {
            "__typename": "Query",
            "projections": [{"name": "order_views"}, {"name": "customer_summaries"}],
        }
    }
