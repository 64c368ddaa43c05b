"""Who calls: a request's bearer token turned into an actor, on HTTP and on websockets.

The service authenticates in one of three ways, decided at start: tokens are verified
(a secret or a JWKS is configured), nothing is checked because AUTH=off says so, or
nothing is checked because nothing is configured, which only the embedded SQLite
default allows (and says so at start and in /health). A PostgreSQL database, the one
production runs on, is never served open by accident.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from handlers.actor import ANONYMOUS, Actor
from schema.identity.settings import AuthSettings
from schema.identity.tokens import (
    Identity,
    TokenVerifier,
    Unauthenticated,
    bearer_token,
    verifier_for,
)
from schema.invalid_setting import InvalidSetting

OPEN_WARNING = (
    "serving WITHOUT authentication: anyone who reaches the API can read and change every "
    "order; set AUTH_JWT_SECRET or AUTH_JWKS_URL (or AUTH=off to serve open on purpose)"
)
NEVER_OPEN = (
    "PostgreSQL is never served without authentication by accident: set AUTH_JWT_SECRET "
    "or AUTH_JWKS_URL, or AUTH=off to serve open on purpose"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """What a request's credentials proved: an actor, or (actor None) nothing."""

    actor: Actor | None
    # when the token stops being valid (a websocket connection is closed then)
    expires_at: datetime | None = None
    # why a token that was presented was refused: for the log, never for the client
    refused: str | None = None

    @property
    def presented_a_token(self) -> bool:
        return self.actor is not None or self.refused is not None


UNIDENTIFIED = Caller(actor=None)


class Authentication:
    """The service's authentication, and the websocket connections each principal holds."""

    def __init__(
        self,
        settings: AuthSettings,
        verifier: TokenVerifier | None,
        *,
        max_connections_per_principal: int,
    ) -> None:
        self.settings = settings
        self._verifier = verifier
        self._max_connections = max_connections_per_principal
        self._connections: Counter[str] = Counter()

    @classmethod
    async def start(
        cls, settings: AuthSettings, *, is_sqlite: bool, max_connections_per_principal: int
    ) -> Authentication:
        """Ready to verify tokens (a JWKS is fetched once now), or InvalidSetting with one
        line; unconfigured, open on SQLite only (the app warns: `mode` is "open")."""
        if settings.mode == "unconfigured" and not is_sqlite:
            raise InvalidSetting(NEVER_OPEN)
        verifier = await verifier_for(settings)
        return cls(settings, verifier, max_connections_per_principal=max_connections_per_principal)

    @property
    def required(self) -> bool:
        return self._verifier is not None

    @property
    def mode(self) -> str:
        """For /health: `bearer` (tokens verified), `off` (AUTH=off), or `open` (nothing
        configured: the embedded default's warning)."""
        if self.required:
            return "bearer"
        return "off" if self.settings.mode == "off" else "open"

    async def caller(self, authorization: str | None) -> Caller:
        """The caller whose `Authorization` header value this is."""
        if self._verifier is None:
            return Caller(actor=ANONYMOUS)
        token = bearer_token(authorization)
        if token is None:
            return UNIDENTIFIED
        try:
            identity: Identity = await self._verifier.verify(token)
        except Unauthenticated as refused:
            return Caller(actor=None, refused=str(refused))
        return Caller(actor=identity.actor, expires_at=identity.expires_at)

    def admit_connection(self, caller: Caller) -> bool:
        """Count a websocket connection of the caller's principal; False past the limit."""
        if caller.actor is None or not self.required:
            return True
        if self._connections[caller.actor.sub] >= self._max_connections:
            return False
        self._connections[caller.actor.sub] += 1
        return True

    def release_connection(self, caller: Caller) -> None:
        if caller.actor is None or not self.required:
            return
        self._connections[caller.actor.sub] -= 1
        if self._connections[caller.actor.sub] <= 0:
            del self._connections[caller.actor.sub]

    async def close(self) -> None:
        if self._verifier is not None:
            await self._verifier.close()
