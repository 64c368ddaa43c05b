"""JwksKeySet: the public keys of AUTH_JWKS_URL, cached, and fetched again for an unknown kid."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from jwt import PyJWK, PyJWTError

log = logging.getLogger(__name__)

# asymmetric only: a JWKS holds public keys, and an HMAC "key" read from it would let anyone
# who can read the set sign tokens
ALGORITHMS = ("RS256", "ES256", "EdDSA")
FETCH_TIMEOUT = 5.0
REFETCH_INTERVAL = 10.0
# how long fetched keys are trusted: a key removed from the set stops verifying within this
# time, even when no token names an unknown kid (AUTH_JWKS_CACHE_SECONDS)
MAX_AGE = 300.0


class KeySetUnreadable(Exception):
    """The key set could not be fetched, or holds no usable key; the message says which."""


class JwksKeySet:
    """The signing keys published at a JWKS URL.

    The keys are held in memory. A token naming a kid the set lacks fetches the set again, at
    most once per `refetch_interval` seconds (a flood of made-up kids costs the issuer one
    request per interval), and every verification waiting for that kid shares the one fetch.
    A fetched set replaces the held one, so a removed key stops verifying; a failed fetch
    keeps the held keys. Keys older than `max_age` are fetched again before use (at the
    same rate limit), so a removed key stops verifying within that time.
    """

    def __init__(
        self,
        url: str,
        *,
        refetch_interval: float = REFETCH_INTERVAL,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
        fetch_timeout: float = FETCH_TIMEOUT,
    ) -> None:
        self.url = url
        self._refetch_interval = min(refetch_interval, max_age)
        self._max_age = max_age
        self._clock = clock
        # redirects are not followed: an https URL must not be downgraded to plain http
        self._client = httpx.AsyncClient(timeout=fetch_timeout, follow_redirects=False)
        self._by_kid: dict[str, PyJWK] = {}
        self._keys: tuple[PyJWK, ...] = ()
        self._fetched_at: float | None = None
        self._refetch: asyncio.Task[bool] | None = None

    @classmethod
    async def fetch(
        cls,
        url: str,
        *,
        refetch_interval: float = REFETCH_INTERVAL,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
        fetch_timeout: float = FETCH_TIMEOUT,
    ) -> JwksKeySet:
        """The key set at `url`, fetched once now, or KeySetUnreadable."""
        key_set = cls(
            url,
            refetch_interval=refetch_interval,
            max_age=max_age,
            clock=clock,
            fetch_timeout=fetch_timeout,
        )
        try:
            key_set._hold(await key_set._download())
        except BaseException:
            await key_set.close()
            raise
        return key_set

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._by_kid)

    async def key_for(self, kid: str | None) -> PyJWK | None:
        """The key a token's `kid` names (None when the set lacks it, even after a refetch);
        without a kid, the set's only key, if it has exactly one."""
        if self._fetched_at is not None and self._clock() - self._fetched_at >= self._max_age:
            await self._fetch_again()
        if kid is None:
            return self._keys[0] if len(self._keys) == 1 else None
        if (key := self._by_kid.get(kid)) is not None:
            return key
        if not await self._fetch_again():
            return None
        return self._by_kid.get(kid)

    async def close(self) -> None:
        if self._refetch is not None:
            self._refetch.cancel()
            await asyncio.gather(self._refetch, return_exceptions=True)
        await self._client.aclose()

    async def _fetch_again(self) -> bool:
        """Whether a refetch (this caller's, or one already under way) replaced the keys."""
        if self._refetch is None:
            if (
                self._fetched_at is not None
                and self._clock() - self._fetched_at < self._refetch_interval
            ):
                return False
            self._refetch = asyncio.create_task(self._replace_keys(), name="jwks-refetch")
        # shielded: a caller that goes away must not cancel the fetch the others await
        return await asyncio.shield(self._refetch)

    async def _replace_keys(self) -> bool:
        try:
            self._hold(await self._download())
            return True
        except KeySetUnreadable as error:
            log.warning(
                "keeping the %d keys held: the JWKS at %s %s", len(self._keys), self.url, error
            )
            return False
        finally:
            self._refetch = None

    def _hold(self, keys: tuple[PyJWK, ...]) -> None:
        self._keys = keys
        self._by_kid = {key.key_id: key for key in keys if isinstance(key.key_id, str)}

    async def _download(self) -> tuple[PyJWK, ...]:
        # an attempt counts for the rate limit whether it succeeds or not: an issuer that is
        # down is not asked again for every token
        self._fetched_at = self._clock()
        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise KeySetUnreadable(f"cannot be read: {reason}") from error
        if response.status_code != httpx.codes.OK:
            raise KeySetUnreadable(f"answered HTTP {response.status_code}")
        try:
            document: Any = response.json()
        except ValueError as error:
            raise KeySetUnreadable("is not JSON") from error
        entries = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(entries, list):
            raise KeySetUnreadable('is not a JSON Web Key Set (no "keys" list)')
        keys = tuple(key for entry in entries if (key := _usable_key(entry)) is not None)
        if not keys:
            raise KeySetUnreadable(
                f"holds no usable key (a signing key for {', '.join(ALGORITHMS)})"
            )
        return keys


def _usable_key(entry: object) -> PyJWK | None:
    """The entry as a key to verify signatures with, or None for what this service does not
    verify with: encryption keys, other algorithms, keys too weak, malformed entries."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    try:
        key = PyJWK.from_dict(entry)
    except PyJWTError:
        return None
    if key.algorithm_name not in ALGORITHMS:
        return None
    if key.Algorithm.check_key_length(key.key) is not None:
        return None
    return key
