"""A real server verifying tokens against a real local JWKS: keys rotate while it runs,
without a restart, and a removed key stops verifying."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import sqlite_url
from tests.identity.jwks_server import JwksServer, serving_jwks
from tests.identity.keys import claims, ec_key, hmac_signed, rsa_key
from tests.identity.served import post
from tests.schema.service import PROJECTIONS, Server, serving

# fetched keys are trusted this long: long enough for a test's requests, short enough to wait
CACHE_SECONDS = 1.0
# bound on how long a rotation may take to show: a few cache lifetimes
ROTATION_TIMEOUT = 15.0
OLD, NEW = rsa_key("2025-old"), ec_key("2026-new")


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    with serving_jwks(OLD) as running:
        yield running


@pytest.fixture(scope="module")
def server(jwks: JwksServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("jwks")
    settings = {"AUTH_JWKS_URL": jwks.url, "AUTH_JWKS_CACHE_SECONDS": str(CACHE_SECONDS)}
    with serving("sqlite", sqlite_url(directory), directory, settings) as running:
        yield running


async def status_with(server: Server, token: str) -> int:
    response = await post(server, PROJECTIONS, {"Authorization": f"Bearer {token}"})
    return response.status_code


async def until_status(server: Server, token: str, expected: int) -> int:
    """The status of the token's request once it is `expected`, or the last one seen when
    ROTATION_TIMEOUT passes first (each request is what may fetch the keys again)."""
    status = await status_with(server, token)
    try:
        async with asyncio.timeout(ROTATION_TIMEOUT):
            while status != expected:
                await asyncio.sleep(CACHE_SECONDS / 4)
                status = await status_with(server, token)
    except TimeoutError:
        pass
    return status


async def test_keys_rotate_without_a_restart(server: Server, jwks: JwksServer) -> None:
    old_token, new_token = OLD.sign(claims("ada")), NEW.sign(claims("ada"))
    assert await status_with(server, old_token) == 200
    assert await status_with(server, new_token) == 401

    jwks.publish(OLD, NEW)
    assert await until_status(server, new_token, 200) == 200
    assert await status_with(server, old_token) == 200

    jwks.publish(NEW)
    assert await until_status(server, old_token, 401) == 401
    assert await status_with(server, new_token) == 200


async def test_an_hs256_token_signed_with_the_public_key_is_refused(server: Server) -> None:
    forged = hmac_signed(claims("mallory", ("staff",)), OLD.public_pem, OLD.kid)

    assert await status_with(server, forged) == 401
