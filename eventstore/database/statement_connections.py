"""A fixed set of bare asyncpg connections lent out in turn, one statement at a time."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


class StatementConnections:
    """Lends a connection for one autocommitted statement.

    asyncpg's own Pool shields every release in a task of its own, which at thousands of
    appends a second costs as much client time as the statement itself; a queue of idle
    connections costs next to nothing. A connection interrupted mid-statement (an error of
    the connection, a cancellation) is closed and replaced rather than lent again.
    """

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._size = size
        self._idle: asyncio.Queue[asyncpg.Connection] = asyncio.Queue()
        self._opened = 0

    async def fetchrow(self, statement: str, *arguments: Any) -> asyncpg.Record | None:
        connection = await self._take()
        try:
            row = await connection.fetchrow(statement, *arguments)
        except asyncpg.PostgresError:
            self._idle.put_nowait(connection)  # the statement failed, the connection did not
            raise
        except BaseException:
            self._opened -= 1
            connection.terminate()
            raise
        self._idle.put_nowait(connection)
        return row

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()
            self._opened -= 1

    async def _take(self) -> asyncpg.Connection:
        if self._idle.empty() and self._opened < self._size:
            self._opened += 1
            try:
                return await asyncpg.connect(self._dsn)
            except BaseException:
                self._opened -= 1
                raise
        return await self._idle.get()
