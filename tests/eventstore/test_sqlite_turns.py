"""A turn of the SQLite writer (eventstore/database/sqlite_writer.py): the projections'
transactions run on the writer's own connection, holding the file's write lock, and
commit or roll back as one; the appends around them keep synchronous=FULL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text

from eventstore import EventStore, create_engine
from migrations import upgrade
from tests.conftest import sqlite_url
from tests.eventstore.test_sqlite_writer import new, writer_of

# PRAGMA synchronous's answers
NORMAL, FULL = 1, 2


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    engine = create_engine(sqlite_url(tmp_path))
    await upgrade(engine)
    store = EventStore(engine)
    async with store.write_transaction() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield store
    await store.close()
    await engine.dispose()


async def notes(store: EventStore) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars())


class Refused(Exception):
    pass


async def test_a_turn_commits_its_statements_as_one_and_readers_see_them(
    store: EventStore,
) -> None:
    async with store.write_transaction() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('one'), ('two')"))
        counted = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar()
        assert counted == 2, "the turn reads its own writes"
        assert await notes(store) == [], "a reader beside it sees nothing before the commit"
    assert await notes(store) == ["one", "two"]


async def test_a_failing_turn_leaves_nothing_and_the_next_one_writes(store: EventStore) -> None:
    with pytest.raises(Refused):
        async with store.write_transaction() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
            raise Refused
    with pytest.raises(Exception, match="UNIQUE"):
        async with store.write_transaction() as conn:
            await conn.execute(text("INSERT INTO notes (id, body) VALUES (1, 'a'), (1, 'b')"))
    async with store.write_transaction() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    assert await notes(store) == ["kept"]
    assert (await store.append("s", "S", [new()], 0, uuid4())).version == 1


async def test_a_turn_holds_the_write_lock_against_other_connections(
    store: EventStore, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "orders.db", timeout=0, isolation_level=None)
    try:
        async with store.write_transaction() as conn:
            await conn.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the turn has committed
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_turn_commits_without_fsync_and_appends_keep_full(store: EventStore) -> None:
    writer = writer_of(store)
    async with store.write_transaction() as conn:
        # read-side rows: rebuilt from their checkpoint, which commits with them
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == NORMAL
    assert await writer.submit(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == FULL


async def test_a_turn_cancelled_before_its_grant_holds_nobody_up(store: EventStore) -> None:
    writer = writer_of(store)
    async with store.write_transaction() as conn:
        waiting = asyncio.ensure_future(store.write_transaction().__aenter__())
        # a statement of this turn's own: the loop runs the task up to its wait for a grant
        await conn.execute(text("SELECT 1"))
        assert not waiting.done()
        waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with asyncio.timeout(30):
        assert (await store.append("s", "S", [new()], 0, uuid4())).version == 1
        async with store.write_transaction() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('after')"))
    assert await notes(store) == ["after"]
    assert writer.healthy
