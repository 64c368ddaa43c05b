"""Migration 0009 on PostgreSQL: a log appended while its payloads were jsonb reads back
the same once they are json, and takes appends afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text

from eventstore import EventStore, NewEvent, create_engine
from handlers.events import codec, stream_id_of
from migrations import upgrade
from readmodels.projection import decoded
from tests.eventstore.test_store import readable
from tests.handlers.test_events import EVENTS, LEGACY_ITEM_ADDED, ORDER, UPCAST, assert_exact
from tests.postgres import admin_url, scratch_database

pytestmark = pytest.mark.postgres_only

ACTOR = {"actor": {"id": "ada", "roles": ["customer"]}, "trace": None}


@pytest.fixture
def new_postgres_url() -> Iterator[str]:
    """A database of its own: the test migrates it step by step."""
    with admin_url() as admin, scratch_database(admin) as url:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def column_types(store: EventStore) -> dict[str, str]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'events' AND column_name IN ('data', 'metadata')"
            )
        )
        return {name: kind for name, kind in rows}


async def test_events_appended_as_jsonb_read_back_the_same_as_json(new_postgres_url: str) -> None:
    async with opened(new_postgres_url, "0008") as store:
        assert await column_types(store) == {"data": "jsonb", "metadata": "jsonb"}
        encoded = [
            NewEvent(event_type=name, schema_version=version, data=data, metadata=ACTOR)
            for name, version, data in map(codec.encode, EVENTS)
        ]
        stream = stream_id_of(ORDER)
        last = await store.append(stream, "Order", [*encoded, LEGACY_ITEM_ADDED], 0, uuid4())
        await readable(store, last.position)
        logged_before = await store.read_log(0)
        recorded_before = await store.read_stream(stream)

    # as a deployment does: the processes of the old code are gone when the migration runs
    # (their prepared statements name the old column type)
    async with opened(new_postgres_url, "head") as store:
        assert await column_types(store) == {"data": "json", "metadata": "json"}

        # the read side: the same events, typed (Decimal money, aware UTC), upcast
        logged = await store.read_log(0)
        assert [e.position for e in logged] == [e.position for e in logged_before]
        expected: list[Any] = [*EVENTS, UPCAST]
        for (_, event), wanted in zip(decoded(logged), expected, strict=True):
            assert_exact(event, wanted)
        # the write side: the same records, payloads and metadata
        assert await store.read_stream(stream) == recorded_before
        assert recorded_before[0].metadata == ACTOR

        # appends go on, and read back the same way
        _, version, data = codec.encode(EVENTS[1])
        added = NewEvent(event_type="OrderItemAdded", schema_version=version, data=data)
        after = await store.append(stream, "Order", [added], len(expected), uuid4())
        await readable(store, after.position)
        (new_event,) = await store.read_log(last.position)
        ((_, event),) = decoded([new_event])
        assert_exact(event, EVENTS[1])
        assert (await store.read_stream(stream, len(expected)))[0].data == data


@contextlib.asynccontextmanager
async def opened(url: str, revision: str) -> AsyncIterator[EventStore]:
    """The store of a process that migrated the database to `revision` first."""
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
        store = EventStore(engine)
        try:
            yield store
        finally:
            await store.close()
    finally:
        await engine.dispose()
