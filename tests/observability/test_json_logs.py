"""LOG_FORMAT=json on a real server: every line is one JSON object, a request id round-trips
into the response and the access line, and neither tokens nor variables reach the log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import sqlite_url
from tests.schema.service import (
    CREATE_ORDER,
    REQUEST_TIMEOUT,
    Server,
    create_order_input,
    serving,
    unique,
)

TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.not-for-the-log.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("json-logs")
    env = {"LOG_FORMAT": "json", "ACCESS_LOG": "on"}
    with serving("sqlite", sqlite_url(directory), directory, env=env) as running:
        yield running


def logged(server: Server) -> list[dict[str, Any]]:
    lines = [line for line in server.lines if line.strip()]
    return [json.loads(line) for line in lines]


async def access_line(server: Server, request_id: str) -> dict[str, Any]:
    """The request's access line: written once its response is sent, so maybe not yet."""
    async with asyncio.timeout(REQUEST_TIMEOUT):
        while True:
            found = [line for line in logged(server) if line.get("request_id") == request_id]
            if found:
                (only,) = found
                return only
            await asyncio.sleep(0.01)


async def post(server: Server, body: dict[str, Any], **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        return await client.post(server.graphql_url, json=body, headers=headers)


async def test_a_request_id_round_trips_into_the_response_and_the_access_line(
    server: Server,
) -> None:
    customer = unique("secret-customer")
    body = {"query": CREATE_ORDER, "variables": {"input": create_order_input(customer)}}
    response = await post(server, body, **{"X-Request-ID": "req-7f3a", "Authorization": TOKEN})
    created = response.json()["data"]["createOrder"]

    assert response.headers["x-request-id"] == "req-7f3a"
    access = await access_line(server, "req-7f3a")
    assert access["logger"] == "schema.access"
    assert access["message"].startswith("POST /graphql 200 ")
    assert {key: access[key] for key in ("operation_type", "operation_name", "command")} == {
        "operation_type": "mutation",
        "operation_name": "Create",
        "command": "CreateOrder",
    }
    assert access["command_id"] == created["commandId"]
    assert access["stream_id"] == created["streamId"]
    assert access["position"] == created["position"]
    assert set(access) >= {"time", "level", "logger", "message"}
    log = "".join(server.lines)
    assert "not-for-the-log" not in log
    assert customer not in log
    assert "Analytical Row" not in log  # the address of the variables


async def test_a_request_without_a_usable_id_gets_a_new_one(server: Server) -> None:
    query = {"query": "{ projections { name } }"}
    given = await post(server, query)
    forged = await post(server, query, **{"X-Request-ID": 'x" {"level": "forged"}'})
    too_long = await post(server, query, **{"X-Request-ID": "a" * 129})

    for response in (given, forged, too_long):
        new = response.headers["x-request-id"]
        assert len(new) == 32 and int(new, 16) >= 0
        assert (await access_line(server, new))["operation_type"] == "query"
    assert "forged" not in "".join(server.lines)


def test_every_line_of_the_server_is_one_json_object(server: Server) -> None:
    lines = logged(server)
    assert any("Uvicorn running on" in line["message"] for line in lines)
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
        assert line["time"].endswith("+00:00")


def test_an_unknown_log_format_stops_the_command_with_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    environment = {**os.environ, "LOG_FORMAT": "xml", "DATABASE_URL": sqlite_url(tmp_path)}
    finished = subprocess.run(
        [sys.executable, "-m", "schema.cli", "serve", "--port", "0"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=REQUEST_TIMEOUT,
        cwd=tmp_path,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip() == "cqrs-orders: LOG_FORMAT must be plain or json, not 'xml'"
