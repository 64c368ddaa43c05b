"""Fixtures of the identity tests: real signing keys and a real JWKS server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.identity.jwks_server import JwksServer, serving_jwks
from tests.identity.keys import SigningKey, ec_key, ed25519_key, rsa_key


@pytest.fixture(scope="session")
def rsa_signing_key() -> SigningKey:
    return rsa_key("rsa-1")


@pytest.fixture(scope="session")
def ec_signing_key() -> SigningKey:
    return ec_key("ec-1")


@pytest.fixture(scope="session")
def ed25519_signing_key() -> SigningKey:
    return ed25519_key("ed-1")


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    """A JWKS server of this test alone, publishing no key until the test says which."""
    with serving_jwks() as server:
        yield server
