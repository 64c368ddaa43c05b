"""The client examples of docs/clients.md, run as they are written against a real server with
authentication on: the Python one (gql) and the TypeScript one (graphql-ws and fetch)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.identity.served import Served, served_fixture, token
from tests.schema.service import unique

ROOT = Path(__file__).parent.parent.parent
CLIENTS = ROOT / "docs" / "clients.md"
NPM_TOOLS = ROOT / "tests" / "npm"
RUN_TIMEOUT = 120.0
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)

served = served_fixture()


def example(language: str) -> str:
    """The one code block of `language` in docs/clients.md."""
    (code,) = [body for lang, body in _BLOCK.findall(CLIENTS.read_text()) if lang == language]
    return code


def run(command: list[str], served: Served, customer: str) -> dict[str, Any]:
    environment = os.environ | {
        "GRAPHQL_URL": served.server.graphql_url,
        "TOKEN": token(customer),
        "CUSTOMER_ID": customer,
    }
    ran = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=environment
    )
    assert ran.returncode == 0, ran.stderr
    summary: dict[str, Any] = json.loads(ran.stdout.splitlines()[-1])
    return summary


def check(summary: dict[str, Any]) -> None:
    assert summary["reached"] is True
    assert summary["orderId"] in summary["listed"]
    assert len(summary["listed"]) == 1, "the customer has this one order"


def test_the_python_example_runs(served: Served, tmp_path: Path) -> None:
    script = tmp_path / "client.py"
    script.write_text(example("python"))
    check(run([sys.executable, str(script)], served, unique("py-client")))


def test_the_typescript_example_runs(served: Served, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (NPM_TOOLS / "node_modules" / "typescript").is_dir():
        pytest.fail(f"node and tests/npm's packages are needed: npm ci --prefix {NPM_TOOLS}")
    script = tmp_path / "client.ts"
    script.write_text(example("ts"))
    check(run([node, str(NPM_TOOLS / "run_ts.mjs"), str(script)], served, unique("ts-client")))
