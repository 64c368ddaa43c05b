"""The QueryBus: one handler per query type, each answer waiting for read-your-writes first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore.database import StatementConnections, driver_dsn
from readmodels.errors import InvalidQuery
from readmodels.querying.consistency import FRESH, Consistency, ConsistencyWaiter
from readmodels.querying.read_session import ReadSession

T = TypeVar("T", covariant=True)
Q = TypeVar("Q", bound="Query[Any]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Query(Generic[T]):
    """A question to the read side whose answer is a T.

    With `min_position` the answer waits (at most `timeout` seconds) until the projections
    in `reads` (every projection with `all_projections`) have applied that position, and
    says stale if they had not.
    """

    reads: ClassVar[tuple[str, ...]] = ()
    min_position: int | None = None
    timeout: float = 5.0
    all_projections: bool = False

    def check(self) -> None:
        """Raise InvalidQuery for arguments out of range (before any waiting)."""


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    value: T
    consistency: Consistency


Handler = Callable[[Q, ReadSession], Awaitable[Any]]

# bare connections for one-statement reads, beside the engine's pool for the others: a
# statement by key takes a fraction of a millisecond, so a few serve a process's core
READ_CONNECTIONS = 8


class QueryBus:
    def __init__(
        self,
        waiter: ConsistencyWaiter,
        engine: AsyncEngine,
        statement_connections: int = READ_CONNECTIONS,
    ) -> None:
        self._waiter = waiter
        self._engine = engine
        self._handlers: dict[type[Any], Handler[Any]] = {}
        # On PostgreSQL a read of one statement needs no transaction, and SQLAlchemy's
        # checkout, BEGIN, COMMIT and reset cost ten times the statement's own client time
        # (600 us against 50 us for an order by id): such reads go to bare connections.
        self._statements = (
            StatementConnections(driver_dsn(engine.url), statement_connections)
            if engine.dialect.name == "postgresql"
            else None
        )

    def session(self) -> ReadSession:
        """A session for the reads of one API operation; close it when the operation ends.
        Its reads may borrow the bus's bare connections, so the bus's owner closes the bus."""
        return ReadSession(self._engine, self._statements)

    async def close(self) -> None:
        if self._statements is not None:
            await self._statements.close()

    def register(self, query_type: type[Q], handler: Handler[Q]) -> None:
        if query_type in self._handlers:
            raise ValueError(f"{query_type.__name__} already has a handler")
        self._handlers[query_type] = handler

    async def ask(self, query: Query[T], session: ReadSession | None = None) -> QueryResult[T]:
        """The answer, read through `session` (the caller's operation-wide one) or, without
        one, through a session of this query alone on the engine (the bare connections are
        for API operations, whose process closes the bus)."""
        handler = self._handlers.get(type(query))
        if handler is None:
            raise LookupError(f"no handler is registered for {type(query).__name__}")
        if query.timeout < 0:
            raise InvalidQuery("timeout must be 0 or more", "timeout")
        if query.min_position is not None and query.min_position < 0:
            raise InvalidQuery("min_position must be 0 or more", "min_position")
        query.check()
        consistency = FRESH
        if query.min_position is not None:
            awaited = None if query.all_projections else query.reads
            consistency = await self._waiter.wait_for(query.min_position, awaited, query.timeout)
        if session is not None:
            return QueryResult(cast(T, await handler(query, session)), consistency)
        async with ReadSession(self._engine) as own:
            return QueryResult(cast(T, await handler(query, own)), consistency)
