"""Verifying HS256 tokens signed with a shared secret: who they name, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from handlers.actor import Actor
from schema.identity.settings import AuthSettings
from schema.identity.tokens import (
    Identity,
    TokenVerifier,
    Unauthenticated,
    bearer_token,
    mint_token,
    verifier_for,
)
from tests.identity.keys import claims

SECRET = "a shared secret of the token tests, long enough to sign HS512 with: 64+ bytes"
OTHER_SECRET = "another secret, of another service, 32+ bytes"
ISSUER = "https://login.example.com/"
AUDIENCE = "orders"


def signed(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


async def verify(token: str, **settings: Any) -> Identity:
    verifier = TokenVerifier(AuthSettings(jwt_secret=SECRET, **settings))
    try:
        return await verifier.verify(token)
    finally:
        await verifier.close()


async def refusal(token: str, **settings: Any) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await verify(token, **settings)
    reason = str(refused.value)
    # a refusal is logged and answered: it never holds the token, nor the secret
    assert token not in reason and SECRET not in reason
    return reason


async def test_a_staff_token_is_staff_until_its_exp() -> None:
    payload = claims("shop", ("staff",))

    identity = await verify(signed(payload))

    assert identity.actor == Actor(sub="shop", roles=("staff",))
    assert identity.actor.is_staff
    assert identity.expires_at == payload["exp"]
    assert identity.expires_at.tzinfo is UTC


async def test_a_customer_token_is_the_customer_of_its_sub() -> None:
    payload = claims("ada", ("reviewer",), ttl=timedelta(minutes=5))

    identity = await verify(signed(payload))

    assert identity.actor == Actor(sub="ada", roles=("reviewer",))
    assert not identity.actor.is_staff
    assert identity.expires_at == payload["exp"]


async def test_no_roles_claim_is_no_roles() -> None:
    identity = await verify(signed(claims("ada", roles=None)))

    assert identity.actor == Actor(sub="ada", roles=())


async def test_a_custom_roles_claim_is_read_and_roles_is_ignored() -> None:
    claim = "https://shop.example/roles"
    payload = claims("shop", ("customer",)) | {claim: ["staff"]}

    identity = await verify(signed(payload), roles_claim=claim)

    assert identity.actor.roles == ("staff",)


async def test_issuer_and_audience_are_checked_when_configured() -> None:
    payload = claims("ada", iss=ISSUER, aud=AUDIENCE)

    identity = await verify(signed(payload), issuer=ISSUER, audience=AUDIENCE)

    assert identity.actor.sub == "ada"


async def test_without_a_configured_audience_aud_is_not_checked() -> None:
    identity = await verify(signed(claims("ada", aud="some-other-api")))

    assert identity.actor.sub == "ada"


async def test_nbf_and_iat_within_the_leeway_are_accepted() -> None:
    soon = datetime.now(UTC) + timedelta(seconds=10)

    identity = await verify(signed(claims("ada", nbf=soon, iat=soon)))

    assert identity.actor.sub == "ada"


@pytest.mark.parametrize(
    ("payload", "settings", "reason"),
    [
        (lambda: claims(ttl=-timedelta(minutes=5)), {}, "token expired"),
        (lambda: claims(nbf=datetime.now(UTC) + timedelta(minutes=5)), {}, "token not yet valid"),
        (lambda: claims(iat=datetime.now(UTC) + timedelta(minutes=5)), {}, "token not yet valid"),
        (lambda: claims(iss="https://evil.example/"), {"issuer": ISSUER}, "wrong issuer"),
        (lambda: claims(iss=ISSUER.rstrip("/")), {"issuer": ISSUER}, "wrong issuer"),
        (lambda: claims(), {"issuer": ISSUER}, "token lacks the iss claim"),
        (lambda: claims(aud="another-api"), {"audience": AUDIENCE}, "wrong audience"),
        (lambda: claims(), {"audience": AUDIENCE}, "token lacks the aud claim"),
        (lambda: claims(sub=None), {}, "token lacks the sub claim"),
        (lambda: claims(sub=""), {}, "sub is empty"),
        (lambda: claims(sub="   "), {}, "sub is empty"),
        (lambda: claims(sub=42), {}, "sub is not a string"),
        (lambda: claims(exp=None), {}, "token lacks the exp claim"),
        (lambda: claims(exp="99999999999"), {}, "exp is not a number"),
        (lambda: claims(roles="staff"), {}, "the roles claim is not a list of strings"),
        (lambda: claims(roles=["staff", 7]), {}, "the roles claim is not a list of strings"),
        (
            lambda: claims(roles=None, perms="x"),
            {"roles_claim": "perms"},
            "the perms claim is not a list of strings",
        ),
    ],
)
async def test_a_token_failing_a_claim_check_is_refused(
    payload: Callable[[], dict[str, Any]], settings: dict[str, str], reason: str
) -> None:
    # the claims are made when the test runs: times made at collection would drift into
    # the leeway during a long run
    assert await refusal(signed(payload()), **settings) == reason


async def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert await refusal(signed(claims(), secret=OTHER_SECRET)) == "bad signature"


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_only_hs256_is_accepted_even_with_the_right_secret(algorithm: str) -> None:
    assert await refusal(signed(claims(), algorithm=algorithm)) == "algorithm not allowed"


async def test_an_unsigned_token_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims("shop", ("staff",)), "", algorithm="none")

    assert await refusal(unsigned) == "algorithm not allowed"


@pytest.mark.parametrize(
    "garbage",
    ["not-a-token", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30", "Bearer x", "\u00e9\u00e9.\u00e9"],
)
async def test_garbage_is_refused(garbage: str) -> None:
    assert await refusal(garbage) == "malformed token"


async def test_a_huge_token_is_refused_before_it_is_decoded() -> None:
    assert await refusal("x" * 20_000) == "token too long"


async def test_a_minted_token_verifies_with_the_same_settings() -> None:
    token = mint_token(
        SECRET,
        sub="shop",
        roles=["staff"],
        ttl_seconds=120,
        issuer=ISSUER,
        audience=AUDIENCE,
        roles_claim="perms",
    )
    before = datetime.now(UTC)

    identity = await verify(token, issuer=ISSUER, audience=AUDIENCE, roles_claim="perms")

    assert identity.actor == Actor(sub="shop", roles=("staff",))
    assert before + timedelta(seconds=118) <= identity.expires_at <= before + timedelta(seconds=121)


def test_a_minted_token_must_live_a_second() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        mint_token(SECRET, sub="ada", roles=[], ttl_seconds=0)


async def test_verifier_for_builds_what_the_settings_ask_for() -> None:
    secret = await verifier_for(AuthSettings(jwt_secret=SECRET))

    assert isinstance(secret, TokenVerifier)
    assert (await secret.verify(signed(claims("ada")))).actor.sub == "ada"
    await secret.close()
    assert await verifier_for(AuthSettings.off()) is None
    assert await verifier_for(AuthSettings()) is None


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER   abc.def.ghi  ", "abc.def.ghi"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("abc.def.ghi", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_is_the_token_of_a_bearer_authorization(
    value: str | None, token: str | None
) -> None:
    assert bearer_token(value) == token
