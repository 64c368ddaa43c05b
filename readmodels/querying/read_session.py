"""A read session: one connection for every read of one API operation, opened at the first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventstore.database import StatementConnections


class ReadSession:
    """Lends its connection to one read at a time, each in a transaction of its own.

    Within a read every statement sees one snapshot, so a count and its page agree. Each
    read starts a fresh snapshot, so a read that waited for a position sees the rows that
    wait was for, even when a sibling field read earlier. Reads queue for the connection:
    it runs one statement at a time, and sibling fields resolve concurrently.

    A read of a single statement on PostgreSQL may instead borrow one of `statements`, bare
    connections lent per statement: one statement sees one snapshot without a transaction.
    """

    def __init__(self, engine: AsyncEngine, statements: StatementConnections | None = None) -> None:
        self._engine = engine
        self.statements = statements
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self._lock:
            if self._connection is None:
                connection = await self._engine.connect()
                if self.dialect == "postgresql":
                    connection = await connection.execution_options(
                        isolation_level="REPEATABLE READ"
                    )
                self._connection = connection
            async with self._connection.begin():
                yield self._connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def __aenter__(self) -> ReadSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
