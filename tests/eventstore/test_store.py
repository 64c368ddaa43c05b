"""The event store contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from eventstore import (
    CommandFingerprintMismatch,
    ConcurrencyError,
    EventStore,
    NewEvent,
)
from eventstore.tables import events, handled_commands
from tests.eventstore.log_by_hand import read_all


def new(kind: str = "Thing", **data: object) -> NewEvent:
    return NewEvent(event_type=kind, schema_version=1, data=dict(data), metadata={"by": "test"})


async def count_events(store: EventStore) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def count_commands(store: EventStore) -> int:
    async with store.engine.connect() as conn:
        query = select(func.count()).select_from(handled_commands)
        return int((await conn.execute(query)).scalar_one())


async def test_append_then_read_stream_returns_events_in_version_order(store: EventStore) -> None:
    result = await store.append("s-1", "S", [new(n=1), new(n=2)], 0, uuid4())

    recorded = await store.read_stream("s-1")

    assert result.version == 2
    assert result.position == recorded[-1].position
    assert [(e.version, e.data) for e in recorded] == [(1, {"n": 1}), (2, {"n": 2})]
    assert recorded[0].position < recorded[1].position
    assert recorded[0].metadata == {"by": "test"}
    assert recorded[0].recorded_at.tzinfo is UTC
    assert not result.duplicate


async def test_append_continues_a_stream_at_its_version(store: EventStore) -> None:
    await store.append("s-1", "S", [new(n=1)], 0, uuid4())
    result = await store.append("s-1", "S", [new(n=2)], 1, uuid4())
    assert result.version == 2
    assert [e.version for e in await store.read_stream("s-1")] == [1, 2]


@pytest.mark.parametrize("expected", [0, 2, 5])
async def test_append_at_another_version_conflicts_and_appends_nothing(
    store: EventStore, expected: int
) -> None:
    await store.append("s-1", "S", [new(), new(), new()], 0, uuid4())

    with pytest.raises(ConcurrencyError):
        await store.append("s-1", "S", [new()], expected, uuid4())

    assert await count_events(store) == 3
    assert await count_commands(store) == 1


async def test_append_to_a_missing_stream_at_a_version_conflicts(store: EventStore) -> None:
    with pytest.raises(ConcurrencyError):
        await store.append("nowhere", "S", [new()], 1, uuid4())
    assert await count_events(store) == 0


async def test_repeated_command_id_returns_first_result_and_appends_nothing(
    store: EventStore,
) -> None:
    command_id = uuid4()
    first = await store.append("s-1", "S", [new(n=1)], 0, command_id, "digest")

    again = await store.append("s-1", "S", [new(n=1)], 1, command_id, "digest")

    assert again.duplicate
    assert (again.stream_id, again.version, again.position) == (
        first.stream_id,
        first.version,
        first.position,
    )
    assert await count_events(store) == 1


async def test_repeated_command_id_for_another_request_is_refused(store: EventStore) -> None:
    command_id = uuid4()
    await store.append("s-1", "S", [new()], 0, command_id, "digest-a")

    with pytest.raises(CommandFingerprintMismatch):
        await store.append("s-1", "S", [new()], 1, command_id, "digest-b")
    assert await count_events(store) == 1


@pytest.mark.parametrize("same_stream", [True, False], ids=["same-stream", "new-streams"])
async def test_racing_identical_commands_append_once(store: EventStore, same_stream: bool) -> None:
    command_id = uuid4()

    async def attempt(index: int) -> tuple[str, int, int, bool]:
        stream = "s-1" if same_stream else f"s-{index}"
        result = await store.append(stream, "S", [new()], 0, command_id, "digest")
        return result.stream_id, result.version, result.position, result.duplicate

    results = await asyncio.gather(*(attempt(i) for i in range(8)))

    assert await count_events(store) == 1
    assert len({r[:3] for r in results}) == 1
    assert sorted(r[3] for r in results) == [False] + [True] * 7


async def readable(store: EventStore, position: int) -> None:
    """Wait until read_all can return `position`. On PostgreSQL a transaction outside the
    test (autovacuum's ANALYZE, another database of the cluster) may hold the horizon."""
    async with asyncio.timeout(10):
        while await store.head_position() < position:
            await store.signal.wait_beyond(store.signal.latest, timeout=0.05)


async def test_read_all_pages_through_the_log_in_position_order(store: EventStore) -> None:
    for stream in ("a", "b", "c"):
        last = await store.append(stream, "S", [new(s=stream), new(s=stream)], 0, uuid4())
    await readable(store, last.position)

    first_page = await read_all(store, 0, limit=4)
    rest = await read_all(store, first_page[-1].position, limit=4)

    everything = first_page + rest
    assert [e.data["s"] for e in everything] == ["a", "a", "b", "b", "c", "c"]
    positions = [e.position for e in everything]
    assert positions == sorted(set(positions))
    assert await store.head_position() == positions[-1]
    assert await read_all(store, positions[-1]) == []


async def test_head_of_an_empty_log_is_zero(store: EventStore) -> None:
    assert await store.head_position() == 0
    assert await read_all(store) == []


async def test_append_signals_its_position_in_process(store: EventStore) -> None:
    waiter = asyncio.create_task(store.signal.wait_beyond(0))
    result = await store.append("s-1", "S", [new()], 0, uuid4())
    assert await waiter == result.position


@pytest.mark.parametrize("count", [0, 1025])
async def test_append_refuses_an_empty_or_oversized_batch(store: EventStore, count: int) -> None:
    with pytest.raises(ValueError, match="1 to 1024"):
        await store.append("s-1", "S", [new() for _ in range(count)], 0, uuid4())


async def test_event_ids_are_unique_across_the_log(store: EventStore) -> None:
    event = new()
    first = await store.append("s-1", "S", [event], 0, uuid4())
    with pytest.raises(ConcurrencyError):
        await store.append("s-2", "S", [event], 0, uuid4())
    await readable(store, first.position)
    assert [e.event_id for e in await read_all(store)] == [event.event_id]


async def test_read_log_reads_what_read_all_does_with_what_projections_use(
    store: EventStore,
) -> None:
    for stream in ("a", "b"):
        last = await store.append(stream, "S", [new(s=stream), new(s=stream)], 0, uuid4())
    await readable(store, last.position)

    full = await read_all(store, 0, limit=3)
    lean = await store.read_log(0, limit=3)

    assert [
        (e.position, e.stream_id, e.version, e.event_type, e.schema_version, e.data) for e in full
    ] == [
        (
            e.position,
            e.stream_id,
            e.version,
            e.event_type,
            e.schema_version,
            json.loads(e.data_json),
        )
        for e in lean
    ]
    assert await store.read_log(full[-1].position) == await store.read_log(lean[-1].position)
    assert [e.stream_id for e in await store.read_log(lean[-1].position)] == ["b"]
