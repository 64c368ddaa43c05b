"""The typed per-request context that resolvers see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from handlers.actor import Actor
from handlers.commands import OrderCommand
from handlers.outcome import CommandOutcome
from readmodels import Consistency, ConsistencyProgress, Query, ReadSession, StatusStream
from schema.errors import ClientError
from schema.identity.callers import UNIDENTIFIED, Caller
from schema.services import Services
from schema.strawberry_hooks.fanout import FanOut

T = TypeVar("T")
S = TypeVar("S")


# What the running operation's reads had to give up waiting for, for extensions.consistency
# (schema/extensions.py sets it per operation). Not a field of Context: a websocket's
# Context is its connection's, shared by every operation on it, even concurrent ones,
# while each operation runs in its own task.
OPERATION_STALE_READS: ContextVar[list[Consistency] | None] = ContextVar(
    "operation_stale_reads", default=None
)


@dataclass(kw_only=True)
class Context:
    services: Services
    fanout: FanOut
    request: Request | WebSocket
    response: Response | WebSocket
    # who calls: checked before execution (schema/request_checks.py), so an operation that
    # runs has an actor; a websocket's is set when its connection is initialised
    caller: Caller = UNIDENTIFIED
    # a websocket's connection_init payload (Strawberry sets it), and the task that closes
    # the connection when its token expires (schema/identity/websockets.py)
    connection_params: object = None
    expiry: asyncio.Task[None] | None = None
    # the operation's reads share it; OperationReads opens and closes it
    session: ReadSession | None = None
    # a websocket's context is its connection's: the subscriptions it runs now
    running_subscriptions: int = 0

    @property
    def actor(self) -> Actor:
        actor = self.caller.actor
        assert actor is not None, "an unidentified caller's operation is refused before it runs"
        return actor

    @property
    def customer_scope(self) -> str | None:
        """The one customer whose orders the caller may read; None for staff (every one)."""
        return None if self.actor.is_staff else self.actor.sub

    def check_customer(self, customer_id: str, field: str) -> None:
        """FORBIDDEN unless the caller may read `customer_id`'s orders."""
        scope = self.customer_scope
        if scope is not None and customer_id != scope:
            raise ClientError(
                "a customer may read only their own orders", code="FORBIDDEN", field=field
            )

    async def dispatch(self, command: OrderCommand) -> CommandOutcome:
        return await self.services.commands.dispatch(command, self.actor)

    async def ask(self, query: Query[T]) -> T:
        result = await self.services.queries.ask(query, self.session)
        self._note(result.consistency)
        return result.value

    async def await_every_projection(self, position: int, seconds: float) -> None:
        """Wait until every projection has applied `position` (read-your-writes)."""
        self._note(await self.services.waiter.wait_for(position, None, seconds))

    @contextlib.contextmanager
    def subscription_slot(self) -> Iterator[None]:
        """One of the connection's MAX_SUBSCRIPTIONS_PER_CONNECTION, held while the
        subscription runs; SUBSCRIPTION_LIMIT when all are taken."""
        limit = self.services.settings.max_subscriptions_per_connection
        if self.running_subscriptions >= limit:
            raise ClientError(
                f"at most {limit} subscriptions may run at once on one connection: "
                "complete one first",
                code="SUBSCRIPTION_LIMIT",
            )
        self.running_subscriptions += 1
        try:
            yield
        finally:
            self.running_subscriptions -= 1

    def code_version(self, projection: str) -> int:
        """The version this process's code declares for the projection."""
        return self.services.read_side.runner.code_version(projection)

    def projection_updates(self, projections: list[str] | None) -> StatusStream:
        """Every status change of the named projections (all when None) from now on; use it
        as `async with`, so that leaving the block unsubscribes."""
        services = self.services
        return services.hub.subscribe(services.waiter.awaited(projections))

    def watch_position(
        self, position: int, projections: list[str] | None, seconds: float
    ) -> AsyncGenerator[ConsistencyProgress, None]:
        """The awaited projections' progress towards `position`, until they reach it or
        `seconds` pass; the caller closes it (`aclose`) when it stops early."""
        return self.services.waiter.watch(position, projections, seconds)

    def shared(self, key: str, source: S, build: Callable[[S], T]) -> T:
        """The payload built of `source` that every subscriber receiving the same `source`
        shares, executed and encoded once for all of them (schema/strawberry_hooks/fanout.py)."""
        return self.fanout.shared_of(key, source, build)

    def _note(self, consistency: Consistency) -> None:
        noted = OPERATION_STALE_READS.get()
        if consistency.stale and noted is not None:
            noted.append(consistency)


Info = StrawberryInfo[Context, Any]
