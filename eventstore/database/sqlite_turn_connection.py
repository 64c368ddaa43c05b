"""SqliteTurnConnection: the driver connection SQLAlchemy writes with in a turn of the SQLite
writer (sqlite_writer.py). It speaks aiosqlite's API, which SQLAlchemy's aiosqlite dialect
drives, but runs each statement on the writer's thread, in the turn's transaction, in one
hop: aiosqlite's own connection takes four (open a cursor, execute, fetch, close it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from eventstore.database.sqlite_writer import WriterFailed, WriterTurn

# what a statement leaves for its cursor: description, rows, rowcount, lastrowid
Outcome = tuple[Any, list[Any], int, int | None]


class SqliteTurnConnection:
    """One per writer, handed to SQLAlchemy by `async_creator`; the turn it writes in is
    set for each transaction, one at a time, as the writer gives its turns."""

    # SQLAlchemy's adapter reads this; the writer says BEGIN and COMMIT itself
    isolation_level: str | None = None

    def __init__(self) -> None:
        self.turn: WriterTurn | None = None

    @property
    def _connection(self) -> bool:
        # SQLAlchemy's adapter tests aiosqlite's private attribute before a commit or a
        # rollback: this connection is never closed under it
        return True

    @property
    def current(self) -> WriterTurn:
        if self.turn is None:
            raise WriterFailed("a statement outside the writer's turn")
        return self.turn

    def cursor(self) -> TurnCursor:
        return TurnCursor(self)

    async def commit(self) -> None:
        await self.current.commit()

    async def rollback(self) -> None:
        if self.turn is not None:
            await self.turn.rollback()  # nothing to do after the commit: no hop then

    async def create_function(self, name: str, arity: int, function: Any, **options: Any) -> None:
        def create(connection: sqlite3.Connection) -> None:
            connection.create_function(name, arity, function, **options)

        await self.current.run(create)

    async def close(self) -> None:
        pass  # the connection is the writer's to close

    def stop(self) -> None:
        pass  # nor to terminate


class TurnCursor:
    """aiosqlite's cursor API over one statement's outcome, fetched on the writer's thread."""

    arraysize = 1

    def __init__(self, connection: SqliteTurnConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> TurnCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        pass

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> TurnCursor:
        self._take(await self._run(partial(_execute, sql, parameters or ())))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> TurnCursor:
        self._take(await self._run(partial(_executemany, sql, list(parameters))))
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []

    def _run(self, work: Callable[[sqlite3.Connection], Outcome]) -> Any:
        return self._connection.current.run(work)

    def _take(self, outcome: Outcome) -> None:
        self.description, self._rows, self.rowcount, self.lastrowid = outcome


def _execute(sql: str, parameters: Sequence[Any], connection: sqlite3.Connection) -> Outcome:
    cursor = connection.execute(sql, parameters)
    # fetched before rowcount is read, as aiosqlite's caller does: a RETURNING statement
    # counts its rows as they are stepped
    rows = cursor.fetchall()
    return cursor.description, rows, cursor.rowcount, cursor.lastrowid


def _executemany(
    sql: str, parameters: list[Sequence[Any]], connection: sqlite3.Connection
) -> Outcome:
    cursor = connection.executemany(sql, parameters)
    return cursor.description, [], cursor.rowcount, cursor.lastrowid
