"""Bearer tokens: verified by TokenVerifier into an Identity, or refused as Unauthenticated.

PyJWT does every decoding and signature check. The algorithms come from the configuration,
never from the token: HS256 with a shared secret, or the algorithm of the JWKS key the
token's kid names (RS256, ES256 or EdDSA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.exceptions import InvalidSubjectError

from handlers.actor import Actor
from schema.identity.key_set import ALGORITHMS, JwksKeySet, KeySetUnreadable
from schema.identity.settings import AuthSettings
from schema.invalid_setting import InvalidSetting

# clocks of issuers and of this service disagree a little: nbf, iat and exp allow for it
LEEWAY = timedelta(seconds=30)
# far beyond any real token; a longer one is refused before it is decoded
MAX_TOKEN_LENGTH = 16 * 1024

# what each refusal is called in logs and answers: never the token, never a key
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidIssuedAtError, "iat is not a number"),
    (InvalidSubjectError, "sub is not a string"),
    (jwt.DecodeError, "malformed token"),
    (jwt.InvalidKeyError, "unusable key"),
)


class Unauthenticated(Exception):
    """A token was refused; the message is a short reason, safe to log and to answer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """What a verified token proves: who calls, and until when (its `exp`, aware UTC)."""

    actor: Actor
    expires_at: datetime


class TokenVerifier:
    """Verifies bearer tokens with the configured secret or JWKS."""

    def __init__(self, settings: AuthSettings, *, key_set: JwksKeySet | None = None) -> None:
        if (settings.mode == "jwks") != (key_set is not None):
            raise ValueError("a JWKS configuration needs its key set, and only it does")
        if settings.mode not in {"hs256", "jwks"}:
            raise ValueError(f"nothing verifies tokens when authentication is {settings.mode}")
        self._settings = settings
        self._key_set = key_set

    async def verify(self, token: str) -> Identity:
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("token too long")
        key, algorithms = await self._key_for(token)
        settings = self._settings
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                options={
                    "require": ["exp", "sub"],
                    # unset means unchecked (PyJWT would refuse every token that has an aud)
                    "verify_aud": settings.audience is not None,
                    "enforce_minimum_key_length": True,
                },
                issuer=settings.issuer,
                audience=settings.audience,
                leeway=LEEWAY,
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(_reason(error)) from None
        return Identity(
            actor=Actor(sub=_subject(claims), roles=_roles(claims, settings.roles_claim)),
            expires_at=_expiry(claims),
        )

    async def close(self) -> None:
        if self._key_set is not None:
            await self._key_set.close()

    async def _key_for(self, token: str) -> tuple[jwt.PyJWK | str, list[str]]:
        if self._key_set is None:
            assert self._settings.jwt_secret is not None
            return self._settings.jwt_secret, ["HS256"]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed token") from None
        algorithm = header.get("alg")
        # checked before the kid: a token of another algorithm never causes a refetch
        if algorithm not in ALGORITHMS:
            raise Unauthenticated("algorithm not allowed")
        key = await self._key_set.key_for(header.get("kid"))
        if key is None:
            raise Unauthenticated("unknown signing key")
        # a key verifies with its own algorithm only (its JWK's alg, else its key type's)
        if key.algorithm_name != algorithm:
            raise Unauthenticated("algorithm not allowed for this key")
        return key, [key.algorithm_name]


async def verifier_for(settings: AuthSettings) -> TokenVerifier | None:
    """The verifier the settings ask for (None when nothing is verified); a JWKS is fetched
    now, and one that cannot be read, or holds no usable key, is InvalidSetting."""
    if settings.mode == "hs256":
        return TokenVerifier(settings)
    if settings.mode != "jwks":
        return None
    assert settings.jwks_url is not None
    try:
        key_set = await JwksKeySet.fetch(settings.jwks_url, max_age=settings.jwks_cache_seconds)
    except KeySetUnreadable as error:
        raise InvalidSetting(f"AUTH_JWKS_URL {settings.jwks_url} {error}") from None
    return TokenVerifier(settings, key_set=key_set)


def bearer_token(header_value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value (any case of the scheme)."""
    if header_value is None:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def mint_token(
    secret: str,
    *,
    sub: str,
    roles: Sequence[str],
    ttl_seconds: int,
    issuer: str | None = None,
    audience: str | None = None,
    roles_claim: str = "roles",
) -> str:
    """An HS256 token for `sub` with these roles, valid for `ttl_seconds` from now."""
    if ttl_seconds < 1:
        raise ValueError("a token must live at least one second")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        roles_claim: list(roles),
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def _reason(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"token lacks the {error.claim} claim"
    return next((reason for kind, reason in _REASONS if isinstance(error, kind)), "invalid token")


def _subject(claims: dict[str, Any]) -> str:
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub.strip():
        raise Unauthenticated("sub is empty")
    return sub


def _roles(claims: dict[str, Any], roles_claim: str) -> tuple[str, ...]:
    if roles_claim not in claims:
        return ()
    roles = claims[roles_claim]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise Unauthenticated(f"the {roles_claim} claim is not a list of strings")
    return tuple(roles)


def _expiry(claims: dict[str, Any]) -> datetime:
    exp = claims["exp"]
    # PyJWT accepts any int()-able exp, "123" among them; a NumericDate is a JSON number
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise Unauthenticated("exp is not a number")
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise Unauthenticated("exp is out of range") from None
