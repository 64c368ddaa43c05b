"""Verifying RS256, ES256 and EdDSA tokens against a real JWKS server: the key a token names
verifies it with that key's own algorithm, and nothing else does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from jwt.utils import base64url_encode

from handlers.actor import Actor
from schema.identity.key_set import JwksKeySet
from schema.identity.settings import AuthSettings
from schema.identity.tokens import TokenVerifier, Unauthenticated, verifier_for
from schema.invalid_setting import InvalidSetting
from tests.identity.jwks_server import JwksServer, serving_jwks
from tests.identity.keys import SigningKey, claims, ec_key, hmac_signed, rsa_key

KEYS = ["rsa_signing_key", "ec_signing_key", "ed25519_signing_key"]


@contextlib.asynccontextmanager
async def verifying(server: JwksServer, **settings: Any) -> AsyncIterator[TokenVerifier]:
    key_set = await JwksKeySet.fetch(server.url)
    verifier = TokenVerifier(AuthSettings(jwks_url=server.url, **settings), key_set=key_set)
    try:
        yield verifier
    finally:
        await verifier.close()


async def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await verifier.verify(token)
    assert token not in str(refused.value)
    return str(refused.value)


@pytest.mark.parametrize("key_name", KEYS)
async def test_a_token_signed_by_a_published_key_is_verified(
    jwks_server: JwksServer, request: pytest.FixtureRequest, key_name: str
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    jwks_server.publish(key)
    payload = claims("shop", ("staff",), iss="https://login.example.com/", aud="orders")

    verifier = await verifier_for(
        AuthSettings(
            jwks_url=jwks_server.url, issuer="https://login.example.com/", audience="orders"
        )
    )
    assert verifier is not None
    try:
        identity = await verifier.verify(key.sign(payload))
    finally:
        await verifier.close()

    assert identity.actor == Actor(sub="shop", roles=("staff",))
    assert identity.expires_at == payload["exp"]


async def test_every_algorithm_of_one_key_set_verifies_with_its_own_key(
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    ec_signing_key: SigningKey,
    ed25519_signing_key: SigningKey,
) -> None:
    keys = (rsa_signing_key, ec_signing_key, ed25519_signing_key)
    jwks_server.publish(*keys)

    async with verifying(jwks_server) as verifier:
        subs = [(await verifier.verify(key.sign(claims(key.kid)))).actor.sub for key in keys]

    assert subs == ["rsa-1", "ec-1", "ed-1"]
    assert jwks_server.requests == 1


async def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(rsa_signing_key)
    forged = hmac_signed(claims("shop", ("staff",)), rsa_signing_key.public_pem, "rsa-1")

    async with verifying(jwks_server) as verifier:
        reason = await refusal(verifier, forged)

    assert reason == "algorithm not allowed"
    assert jwks_server.requests == 1


async def test_an_unsigned_token_is_refused(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(rsa_signing_key)
    unsigned = jwt.encode(
        claims("shop", ("staff",)), "", algorithm="none", headers={"kid": "rsa-1"}
    )

    async with verifying(jwks_server) as verifier:
        assert await refusal(verifier, unsigned) == "algorithm not allowed"


async def test_a_token_naming_a_key_of_another_type_is_refused(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, ec_signing_key: SigningKey
) -> None:
    jwks_server.publish(rsa_signing_key, ec_signing_key)
    # RS256 and correctly signed, but its header names the EC key
    token = rsa_signing_key.sign(claims(), kid="ec-1")

    async with verifying(jwks_server) as verifier:
        assert await refusal(verifier, token) == "algorithm not allowed for this key"


async def test_a_token_signed_by_an_unpublished_key_under_a_published_kid_is_refused(
    jwks_server: JwksServer, ec_signing_key: SigningKey
) -> None:
    jwks_server.publish(ec_signing_key)
    impostor = ec_key("ec-1")

    async with verifying(jwks_server) as verifier:
        assert await refusal(verifier, impostor.sign(claims())) == "bad signature"


async def test_claims_are_checked_as_for_a_secret(
    jwks_server: JwksServer, ed25519_signing_key: SigningKey
) -> None:
    jwks_server.publish(ed25519_signing_key)
    expired = ed25519_signing_key.sign(claims(ttl=-timedelta(minutes=5)))
    wrong_issuer = ed25519_signing_key.sign(claims(iss="https://evil.example/"))

    async with verifying(jwks_server, issuer="https://login.example.com/") as verifier:
        assert await refusal(verifier, expired) == "token expired"
        assert await refusal(verifier, wrong_issuer) == "wrong issuer"


async def test_a_token_without_kid_uses_the_only_key(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(rsa_signing_key)

    async with verifying(jwks_server) as verifier:
        identity = await verifier.verify(rsa_signing_key.sign(claims("ada"), with_kid=False))

    assert identity.actor.sub == "ada"


async def test_a_token_without_kid_is_refused_when_several_keys_could_sign(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, ec_signing_key: SigningKey
) -> None:
    jwks_server.publish(rsa_signing_key, ec_signing_key)

    async with verifying(jwks_server) as verifier:
        reason = await refusal(verifier, rsa_signing_key.sign(claims(), with_kid=False))

    assert reason == "unknown signing key"
    assert jwks_server.requests == 1


async def test_garbage_is_refused_without_a_fetch(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(rsa_signing_key)

    async with verifying(jwks_server) as verifier:
        reasons = {await refusal(verifier, garbage) for garbage in ("x", "a.b.c", "e30.e30.")}

    assert reasons == {"malformed token", "algorithm not allowed"}
    assert jwks_server.requests == 1


async def test_an_unreadable_key_set_stops_the_start() -> None:
    with serving_jwks() as gone:
        url = gone.url
    # the server has stopped: nothing listens on its port any more

    with pytest.raises(InvalidSetting) as refused:
        await verifier_for(AuthSettings(jwks_url=url))

    (line,) = str(refused.value).splitlines()
    assert line.startswith(f"AUTH_JWKS_URL {url} cannot be read: ")


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"unavailable", 503, "answered HTTP 503"),
        (b"<html>keys</html>", 200, "is not JSON"),
        (b'[{"kty": "RSA"}]', 200, 'is not a JSON Web Key Set (no "keys" list)'),
        (b'{"keys": []}', 200, "holds no usable key"),
    ],
)
async def test_a_key_set_that_cannot_be_used_stops_the_start(
    jwks_server: JwksServer, body: bytes, status: int, says: str
) -> None:
    jwks_server.serve_body(body, status)

    with pytest.raises(InvalidSetting) as refused:
        await verifier_for(AuthSettings(jwks_url=jwks_server.url))

    (line,) = str(refused.value).splitlines()
    assert line.startswith(f"AUTH_JWKS_URL {jwks_server.url} {says}")


async def test_keys_this_service_does_not_verify_with_are_not_usable(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    secret = base64url_encode(b"an HMAC secret nobody should publish, 32+ bytes").decode()
    jwks_server.publish(
        {"kty": "oct", "k": secret, "kid": "hmac", "alg": "HS256"},
        {**rsa_signing_key.jwk, "kid": "encryption", "use": "enc"},
        {**rsa_signing_key.jwk, "kid": "rs512", "alg": "RS512"},
        {**rsa_key("weak", bits=1024).jwk},
        {"kty": "EC", "crv": "P-256", "kid": "broken", "x": "AA", "y": "AA"},
    )

    with pytest.raises(InvalidSetting, match="holds no usable key"):
        await verifier_for(AuthSettings(jwks_url=jwks_server.url))


async def test_only_the_usable_keys_of_a_mixed_set_are_held(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, ec_signing_key: SigningKey
) -> None:
    jwks_server.publish(
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, rsa_signing_key, ec_signing_key
    )

    key_set = await JwksKeySet.fetch(jwks_server.url)
    try:
        assert key_set.key_ids == {"rsa-1", "ec-1"}
    finally:
        await key_set.close()
