"""Keys rotate without a restart: an unknown kid fetches the key set again, at most once per
interval and once for every verification waiting on it; the time is a clock the test moves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from schema.identity.key_set import JwksKeySet
from schema.identity.settings import AuthSettings
from schema.identity.tokens import TokenVerifier, Unauthenticated
from tests.identity.jwks_server import JwksServer
from tests.identity.keys import SigningKey, claims, ec_key, ed25519_key, rsa_key

INTERVAL = 10.0
MAX_AGE = 300.0


class Clock:
    """Monotonic seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def old_key() -> SigningKey:
    return rsa_key("2024-old")


@pytest.fixture(scope="module")
def new_key() -> SigningKey:
    return ec_key("2025-new")


@pytest.fixture(scope="module")
def next_key() -> SigningKey:
    return ed25519_key("2026-next")


@contextlib.asynccontextmanager
async def verifying(server: JwksServer, clock: Clock) -> AsyncIterator[TokenVerifier]:
    key_set = await JwksKeySet.fetch(server.url, refetch_interval=INTERVAL, clock=clock)
    verifier = TokenVerifier(AuthSettings(jwks_url=server.url), key_set=key_set)
    try:
        yield verifier
    finally:
        await verifier.close()


async def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await verifier.verify(token)
    return str(refused.value)


async def test_a_key_added_while_running_is_accepted_after_one_refetch(
    jwks_server: JwksServer, clock: Clock, old_key: SigningKey, new_key: SigningKey
) -> None:
    jwks_server.publish(old_key)
    async with verifying(jwks_server, clock) as verifier:
        jwks_server.publish(old_key, new_key)
        clock.advance(INTERVAL)

        first = await verifier.verify(new_key.sign(claims("ada")))
        again = await verifier.verify(new_key.sign(claims("bob")))
        old = await verifier.verify(old_key.sign(claims("cy")))

    assert [first.actor.sub, again.actor.sub, old.actor.sub] == ["ada", "bob", "cy"]
    assert jwks_server.requests == 2


async def test_a_removed_key_stops_verifying_once_the_set_was_fetched_again(
    jwks_server: JwksServer,
    clock: Clock,
    old_key: SigningKey,
    new_key: SigningKey,
    next_key: SigningKey,
) -> None:
    jwks_server.publish(old_key, new_key)
    async with verifying(jwks_server, clock) as verifier:
        jwks_server.publish(new_key, next_key)
        # held until the set is fetched again: the old key still verifies
        held = await verifier.verify(old_key.sign(claims("ada")))
        clock.advance(INTERVAL)
        rotated = await verifier.verify(next_key.sign(claims("bob")))

        reason = await refusal(verifier, old_key.sign(claims("ada")))

    assert (held.actor.sub, rotated.actor.sub) == ("ada", "bob")
    assert reason == "unknown signing key"
    assert jwks_server.requests == 2


async def test_keys_older_than_their_max_age_are_fetched_again_before_use(
    jwks_server: JwksServer, clock: Clock, old_key: SigningKey, new_key: SigningKey
) -> None:
    jwks_server.publish(old_key, new_key)
    key_set = await JwksKeySet.fetch(
        jwks_server.url, refetch_interval=INTERVAL, max_age=MAX_AGE, clock=clock
    )
    verifier = TokenVerifier(AuthSettings(jwks_url=jwks_server.url), key_set=key_set)
    try:
        jwks_server.publish(new_key)
        clock.advance(MAX_AGE - 1)
        held = await verifier.verify(old_key.sign(claims("ada")))
        clock.advance(1)
        # no unknown kid asked for it: the keys' age alone fetches the set again
        reason = await refusal(verifier, old_key.sign(claims("ada")))
        fresh = await verifier.verify(new_key.sign(claims("bob")))
    finally:
        await verifier.close()

    assert (held.actor.sub, fresh.actor.sub) == ("ada", "bob")
    assert reason == "unknown signing key"
    assert jwks_server.requests == 2


async def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval(
    jwks_server: JwksServer, clock: Clock, old_key: SigningKey
) -> None:
    jwks_server.publish(old_key)

    def forged(n: int) -> str:
        return old_key.sign(claims(), kid=f"made-up-{n}")

    async with verifying(jwks_server, clock) as verifier:
        clock.advance(INTERVAL)
        flood = await asyncio.gather(
            *(verifier.verify(forged(n)) for n in range(50)), return_exceptions=True
        )
        after_flood = jwks_server.requests
        for n in range(50, 100):
            clock.advance(INTERVAL / 100)
            assert await refusal(verifier, forged(n)) == "unknown signing key"
        within_interval = jwks_server.requests
        clock.advance(INTERVAL)
        assert await refusal(verifier, forged(100)) == "unknown signing key"

    assert {str(outcome) for outcome in flood} == {"unknown signing key"}
    assert all(isinstance(outcome, Unauthenticated) for outcome in flood)
    assert (after_flood, within_interval, jwks_server.requests) == (2, 2, 3)


async def test_verifications_waiting_for_a_new_kid_share_one_fetch(
    jwks_server: JwksServer, clock: Clock, old_key: SigningKey, new_key: SigningKey
) -> None:
    jwks_server.publish(old_key)
    async with verifying(jwks_server, clock) as verifier:
        jwks_server.publish(old_key, new_key)
        clock.advance(INTERVAL)

        identities = await asyncio.gather(
            *(verifier.verify(new_key.sign(claims(f"customer-{n}"))) for n in range(20))
        )

    assert [identity.actor.sub for identity in identities] == [f"customer-{n}" for n in range(20)]
    assert jwks_server.requests == 2


@pytest.mark.parametrize(
    "break_server",
    [
        lambda server: server.fail(503),
        lambda server: server.serve_body(b"not json"),
        lambda server: server.publish(),
    ],
    ids=["http-503", "not-json", "no-keys"],
)
async def test_a_failed_refetch_keeps_the_keys_held(
    jwks_server: JwksServer,
    clock: Clock,
    old_key: SigningKey,
    new_key: SigningKey,
    break_server: Callable[[JwksServer], None],
) -> None:
    jwks_server.publish(old_key)
    async with verifying(jwks_server, clock) as verifier:
        break_server(jwks_server)
        clock.advance(INTERVAL)
        refused = await refusal(verifier, new_key.sign(claims()))
        held = await verifier.verify(old_key.sign(claims("ada")))
        jwks_server.publish(old_key, new_key)
        # the failed attempt counts: the issuer is not asked again within the interval
        too_soon = await refusal(verifier, new_key.sign(claims()))
        clock.advance(INTERVAL)
        recovered = await verifier.verify(new_key.sign(claims("bob")))

    assert (refused, too_soon) == ("unknown signing key", "unknown signing key")
    assert (held.actor.sub, recovered.actor.sub) == ("ada", "bob")
    assert jwks_server.requests == 3
