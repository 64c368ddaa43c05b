"""The SQLite writer (eventstore/database/sqlite_writer.py): one group commit answers each
append on its own, and a failure of the database fails the waiting appends, never hangs."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text

from eventstore import (
    AppendResult,
    CommandFingerprintMismatch,
    ConcurrencyError,
    EventStore,
    NewEvent,
    create_engine,
)
from eventstore.database.sqlite_writer import SqliteWriter, WriterFailed
from eventstore.sqlite import SqliteLog
from migrations import upgrade
from tests.conftest import sqlite_url
from tests.eventstore.test_store import count_commands, count_events


def new(**data: object) -> NewEvent:
    return NewEvent(event_type="Thing", schema_version=1, data=dict(data))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    engine = create_engine(sqlite_url(tmp_path))
    await upgrade(engine)
    store = EventStore(engine)
    yield store
    await store.close()
    await engine.dispose()


def writer_of(store: EventStore) -> SqliteWriter:
    log = store._log
    assert isinstance(log, SqliteLog)
    return log.writer


async def one_group(store: EventStore, *appends: Any) -> list[AppendResult | BaseException]:
    """Run the appends as one group: queued while a turn holds the writer, so that the
    writer takes them all at once when the turn ends."""
    writer = writer_of(store)
    groups = writer.groups
    async with store.write_transaction() as conn:
        tasks = [asyncio.ensure_future(append) for append in appends]
        # a statement of the turn's own: the loop runs every task up to its queued job
        # (store.append has no await before it) while the statement goes to its thread
        await conn.execute(text("SELECT 1"))
        assert not any(task.done() for task in tasks), "the turn holds every append back"
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert writer.groups == groups + 1, "the appends were committed in one group"
    return results


async def test_each_append_of_a_group_gets_its_own_answer(store: EventStore) -> None:
    await store.append("taken", "S", [new()], 0, uuid4())
    repeated, refused = uuid4(), uuid4()
    event = new()

    results = await one_group(
        store,
        store.append("a", "S", [new(n=1)], 0, repeated, "digest"),
        store.append("taken", "S", [new()], 0, uuid4()),  # the stream is at version 1
        store.append("b", "S", [new(n=1), new(n=2)], 0, refused, "digest-b"),
        store.append("a", "S", [new(n=1)], 0, repeated, "digest"),  # a retry, same group
        store.append("c", "S", [new(n=1)], 0, refused, "another request"),
        store.append("a", "S", [new(n=2)], 0, uuid4()),  # stream "a" moved in this group
        store.append("a", "S", [new(n=2)], 1, uuid4()),
        store.append("d", "S", [event], 0, uuid4()),
        store.append("e", "S", [event], 0, uuid4()),  # the event id was just taken
    )

    first, conflict, two, retry, mismatch, moved, next_one, with_event, same_event = results
    assert isinstance(first, AppendResult) and not first.duplicate
    assert isinstance(conflict, ConcurrencyError)
    assert isinstance(two, AppendResult) and two.version == 2
    assert retry == AppendResult(stream_id="a", version=1, position=first.position, duplicate=True)
    assert isinstance(mismatch, CommandFingerprintMismatch)
    assert isinstance(moved, ConcurrencyError)
    assert isinstance(next_one, AppendResult) and next_one.version == 2
    assert isinstance(with_event, AppendResult)
    assert isinstance(same_event, ConcurrencyError)
    # positions in the order the appends were queued, which is the order they committed in
    assert first.position < two.position < next_one.position < with_event.position
    assert [e.version for e in await store.read_stream("a")] == [1, 2]
    assert await count_events(store) == 1 + 1 + 2 + 1 + 1
    assert await count_commands(store) == 5


async def test_sixteen_concurrent_appenders_share_groups_and_lose_nothing(
    store: EventStore,
) -> None:
    writer = writer_of(store)

    async def appender(index: int) -> list[int]:
        positions = []
        for version in range(20):
            result = await store.append(f"s-{index}", "S", [new()], version, uuid4())
            positions.append(result.position)
        return positions

    positions = await asyncio.gather(*(appender(i) for i in range(16)))

    every = sorted(p for stream in positions for p in stream)
    assert every == list(range(1, 16 * 20 + 1))
    assert all(stream == sorted(stream) for stream in positions)
    assert writer.grouped_jobs == 16 * 20
    assert writer.groups < writer.grouped_jobs, "waiting appends commit together"


async def test_a_full_disk_fails_the_waiting_appends_and_marks_the_writer_unhealthy(
    store: EventStore,
) -> None:
    writer = writer_of(store)
    await store.append("s-0", "S", [new()], 0, uuid4())

    def cap(connection: sqlite3.Connection) -> None:
        # the file may not grow by one page more: the next page an insert needs is refused
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")

    await writer.submit(cap)
    big = "x" * 20_000
    async with asyncio.timeout(30):
        results = await asyncio.gather(
            *(store.append(f"s-{i}", "S", [new(big=big)], 0, uuid4()) for i in range(1, 17)),
            return_exceptions=True,
        )

    assert all(isinstance(r, WriterFailed) for r in results), results
    assert "full" in str(results[0])
    assert not writer.healthy
    assert "full" in (store.write_failure or ""), "what /health reports"
    assert await count_events(store) == 1

    await writer.submit(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))
    assert writer.healthy, "a group that commits again makes it healthy"
    assert store.write_failure is None
    assert (await store.append("s-1", "S", [new()], 0, uuid4())).version == 1


async def test_a_closed_connection_fails_every_append_at_once(store: EventStore) -> None:
    writer = writer_of(store)
    with pytest.raises(WriterFailed):
        await writer.submit(lambda connection: connection.close())
    async with asyncio.timeout(30):
        results = await asyncio.gather(
            *(store.append(f"s-{i}", "S", [new()], 0, uuid4()) for i in range(16)),
            return_exceptions=True,
        )
    assert all(isinstance(r, WriterFailed) for r in results), results
    assert not writer.healthy


async def test_a_closed_writer_refuses_work(store: EventStore) -> None:
    await store.close()
    with pytest.raises(WriterFailed, match="closed"):
        await store.append("s", "S", [new()], 0, uuid4())
