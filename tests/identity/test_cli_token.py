"""`cqrs-orders token`, run as a real process: its token verifies with the service's settings,
and without a secret it says what to set, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from handlers.actor import Actor
from schema.identity.settings import AuthSettings
from schema.identity.tokens import TokenVerifier

SECRET = "a shared secret of the token command's tests, 32+ bytes"


def token_command(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`cqrs-orders token ARGS` with exactly these AUTH_* settings."""
    env = {k: v for k, v in os.environ.items() if k != "AUTH" and not k.startswith("AUTH_")}
    return subprocess.run(
        [sys.executable, "-m", "schema.cli", "token", *args],
        env=env | settings,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_printed_token_verifies_with_the_secret(tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    result = token_command(
        *("--sub", "shop", "--role", "staff", "--role", "support", "--ttl", "120"),
        cwd=tmp_path,
        AUTH_JWT_SECRET=SECRET,
        AUTH_ISSUER="https://orders.example/",
        AUTH_AUDIENCE="orders",
        AUTH_ROLES_CLAIM="perms",
    )

    assert result.returncode == 0, result.stderr
    (token,) = result.stdout.splitlines()
    settings = AuthSettings(
        jwt_secret=SECRET,
        issuer="https://orders.example/",
        audience="orders",
        roles_claim="perms",
    )
    verifier = TokenVerifier(settings)
    identity = await verifier.verify(token)
    await verifier.close()
    assert identity.actor == Actor(sub="shop", roles=("staff", "support"))
    assert before + timedelta(seconds=120) <= identity.expires_at
    assert identity.expires_at <= datetime.now(UTC) + timedelta(seconds=120)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_customer_token_lives_an_hour_by_default(tmp_path: Path) -> None:
    result = token_command("--sub", "ada", cwd=tmp_path, AUTH_JWT_SECRET=SECRET)

    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["roles"]) == ("ada", [])
    assert claims["exp"] - claims["iat"] == 3600
    assert "iss" not in claims and "aud" not in claims


def test_without_a_secret_it_says_to_set_one(tmp_path: Path) -> None:
    result = token_command(
        "--sub", "ada", cwd=tmp_path, AUTH_JWKS_URL="https://login.example.com/jwks"
    )

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("cqrs-orders: set AUTH_JWT_SECRET")


def test_a_short_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    result = token_command("--sub", "ada", cwd=tmp_path, AUTH_JWT_SECRET="too short")

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "32 bytes" in line and "too short" not in line
