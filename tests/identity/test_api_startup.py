"""What `cqrs-orders serve` does with the authentication settings at start: a production
database is never served open by accident, and bad settings stop it with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from schema.identity.callers import NEVER_OPEN, OPEN_WARNING
from tests.conftest import sqlite_url
from tests.schema.service import AUTH_SETTINGS, REQUEST_TIMEOUT, START_TIMEOUT, serving

ROOT = Path(__file__).resolve().parents[2]


def serve_refused(
    database_url: str, cwd: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`cqrs-orders serve` with exactly these AUTH_* settings, expected to stop at start."""
    environment = {k: v for k, v in os.environ.items() if k not in AUTH_SETTINGS}
    environment |= {"DATABASE_URL": database_url, **settings}
    return subprocess.run(
        [sys.executable, "-m", "schema.cli", "serve", "--port", "0"],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )


def test_postgresql_is_never_served_open_by_accident(postgres_url: str, tmp_path: Path) -> None:
    refused = serve_refused(postgres_url, tmp_path)

    assert refused.returncode == 2
    assert refused.stderr.strip() == f"cqrs-orders: {NEVER_OPEN}"


def test_the_embedded_default_serves_open_and_says_so(tmp_path: Path) -> None:
    unconfigured = {name: "" for name in AUTH_SETTINGS}
    with serving("sqlite", sqlite_url(tmp_path), tmp_path, unconfigured) as server:
        health = httpx.get(f"{server.base_url}/health", timeout=REQUEST_TIMEOUT).json()
        warnings = [line for line in server.lines if OPEN_WARNING in line]

    assert health["authentication"] == "open"
    assert len(warnings) == 1


def test_a_secret_and_a_key_set_together_are_refused(tmp_path: Path) -> None:
    refused = serve_refused(
        sqlite_url(tmp_path),
        tmp_path,
        AUTH_JWT_SECRET="a shared secret of the identity tests, 32+ bytes",
        AUTH_JWKS_URL="http://127.0.0.1:9/jwks.json",
    )

    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "AUTH_JWT_SECRET" in line and "AUTH_JWKS_URL" in line


def test_an_unreadable_key_set_stops_the_start(tmp_path: Path) -> None:
    # port 9 (discard) answers nothing here: the key set cannot be fetched
    refused = serve_refused(
        sqlite_url(tmp_path), tmp_path, AUTH_JWKS_URL="http://127.0.0.1:9/jwks.json"
    )

    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "AUTH_JWKS_URL" in line or "127.0.0.1:9" in line
