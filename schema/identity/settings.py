"""AuthSettings: how bearer tokens are verified, read from the AUTH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from schema.invalid_setting import InvalidSetting

AuthMode = Literal["hs256", "jwks", "off", "unconfigured"]

# HS256 is only as strong as its key: RFC 7518 3.2 asks for one at least as long as the hash
MIN_SECRET_BYTES = 32
DEFAULT_ROLES_CLAIM = "roles"
DEFAULT_JWKS_CACHE_SECONDS = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSettings:
    """One way of verifying tokens (a shared secret or a JWKS), AUTH=off, or nothing at all.

    Built directly or from the environment, it is validated the same way: a bad combination
    raises InvalidSetting with one line, never with the secret in it.
    """

    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    roles_claim: str = DEFAULT_ROLES_CLAIM
    # how long fetched JWKS keys are trusted before the set is fetched again
    jwks_cache_seconds: float = DEFAULT_JWKS_CACHE_SECONDS
    # AUTH=off: served without authentication because the operator said so
    disabled: bool = False

    def __post_init__(self) -> None:
        if self.jwt_secret is not None and self.jwks_url is not None:
            raise InvalidSetting(
                "set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both: "
                "which one verifies tokens would be a guess"
            )
        if self.disabled and (self.jwt_secret is not None or self.jwks_url is not None):
            named = "AUTH_JWT_SECRET" if self.jwt_secret is not None else "AUTH_JWKS_URL"
            raise InvalidSetting(
                f"AUTH=off serves without authentication, yet {named} is set: unset one of them"
            )
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise InvalidSetting(
                f"AUTH_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes: HS256 needs a key "
                "at least as long as its SHA-256 hash "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))' makes one)"
            )
        if self.jwks_url is not None:
            parts = urlsplit(self.jwks_url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise InvalidSetting(f"AUTH_JWKS_URL must be an http(s) URL, not {self.jwks_url!r}")
        if not self.jwks_cache_seconds > 0:
            raise InvalidSetting("AUTH_JWKS_CACHE_SECONDS must be a number of seconds above 0")
        if not self.roles_claim:
            raise InvalidSetting("AUTH_ROLES_CLAIM must name a claim")

    @property
    def mode(self) -> AuthMode:
        if self.jwt_secret is not None:
            return "hs256"
        if self.jwks_url is not None:
            return "jwks"
        return "off" if self.disabled else "unconfigured"

    @classmethod
    def off(cls) -> AuthSettings:
        return cls(disabled=True)

    @classmethod
    def from_environment(cls) -> AuthSettings:
        switch = (os.environ.get("AUTH") or "").strip()
        if switch and switch.lower() != "off":
            raise InvalidSetting(f"AUTH must be off or unset, not {switch!r}")
        return cls(
            # a secret is used byte for byte: only an empty one counts as unset
            jwt_secret=os.environ.get("AUTH_JWT_SECRET") or None,
            jwks_url=_text("AUTH_JWKS_URL"),
            issuer=_text("AUTH_ISSUER"),
            audience=_text("AUTH_AUDIENCE"),
            roles_claim=_text("AUTH_ROLES_CLAIM") or DEFAULT_ROLES_CLAIM,
            jwks_cache_seconds=_seconds("AUTH_JWKS_CACHE_SECONDS", DEFAULT_JWKS_CACHE_SECONDS),
            disabled=bool(switch),
        )


def _text(name: str) -> str | None:
    value = (os.environ.get(name) or "").strip()
    return value or None


def _seconds(name: str, default: float) -> float:
    value = _text(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise InvalidSetting(f"{name} must be a number of seconds, not {value!r}") from None
