"""read_all on PostgreSQL never passes a position that a running transaction could still fill in.

Transactions here are driven by hand (append_in_transaction) so that they can be held
open, rolled back, or made to write before their events, which is what a real server
does under load and what a naive "ORDER BY position" reader gets wrong.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore, NewEvent, RecordedEvent
from eventstore.tables import events, handled_commands
from tests.eventstore.log_by_hand import append_in_transaction, read_all

WRITERS = 16
WRITE_SECONDS = 3.0


def new() -> NewEvent:
    return NewEvent(event_type="Tick", schema_version=1, data={})


async def append_on(store: EventStore, conn: AsyncConnection) -> int:
    result = await append_in_transaction(
        store, conn, f"s-{uuid4()}", "S", [new(), new()], 0, uuid4()
    )
    assert result is not None
    return result.position


async def naive_read(store: EventStore, after: int) -> list[int]:
    """What a reader without the horizon would return: the trap the store avoids."""
    async with store.engine.connect() as conn:
        query = select(events.c.position).where(events.c.position > after).order_by("position")
        return list((await conn.execute(query)).scalars())


async def test_an_older_open_transaction_holds_back_read_all_and_a_naive_reader_skips_it(
    pg_store: EventStore,
) -> None:
    async with pg_store.engine.connect() as older, pg_store.engine.connect() as newer:
        older_position = await append_on(pg_store, older)  # takes its transaction id first
        newer_position = await append_on(pg_store, newer)
        await newer.commit()
        assert older_position < newer_position

        naive = await naive_read(pg_store, 0)
        safe = await read_all(pg_store, 0)

        assert naive == [newer_position - 1, newer_position]
        assert safe == [], "a committed position above an open transaction must wait"
        await older.commit()

    # the naive reader checkpointed at newer_position and so skips the older events forever
    assert await naive_read(pg_store, naive[-1]) == []
    assert [e.position for e in await read_all_once_settled(pg_store, 4)] == [
        older_position - 1,
        older_position,
        newer_position - 1,
        newer_position,
    ]


async def read_all_once_settled(store: EventStore, count: int) -> list[RecordedEvent]:
    """read_all from the start once it holds `count` events: a transaction outside this
    test (another database of the cluster, autovacuum's ANALYZE) may hold the horizon."""
    async with asyncio.timeout(10):
        while len(events := await read_all(store, 0)) < count:
            await store.signal.wait_beyond(store.signal.latest, timeout=0.05)
    return events


async def writer(store: EventStore, stop_at: float, seed: int) -> set[int]:
    """Appends until `stop_at` with a mix of transaction shapes; returns committed positions."""
    rng = random.Random(seed)
    committed: set[int] = set()
    while time.monotonic() < stop_at:
        shape = rng.random()
        async with store.engine.connect() as conn:
            if shape < 0.15:
                # a command record written well before the events: the transaction id is
                # taken here, long before the events' position is known to anyone
                await conn.execute(
                    insert(handled_commands).values(
                        command_id=uuid4(),
                        fingerprint="early",
                        stream_id="early",
                        version=0,
                        position=0,
                        handled_at=datetime.now(UTC),
                    )
                )
                await asyncio.sleep(rng.uniform(0.01, 0.1))  # simulated work, not synchronization
            count = rng.randint(1, 3)
            result = await append_in_transaction(
                store, conn, f"s-{uuid4()}", "S", [new() for _ in range(count)], 0, uuid4()
            )
            assert result is not None
            if shape > 0.9:
                await conn.rollback()
                continue
            if shape > 0.75:
                await asyncio.sleep(rng.uniform(0.05, 0.3))  # held open while others commit
            await conn.commit()
        committed.update(range(result.position - count + 1, result.position + 1))
    return committed


async def tail(store: EventStore, last_committed: asyncio.Future[int]) -> list[int]:
    """Follows read_all with its own checkpoint, as a projection does, up to the last
    committed position once the writers have told it."""
    seen: list[int] = []
    checkpoint = 0
    while not (last_committed.done() and checkpoint >= last_committed.result()):
        batch = await read_all(store, checkpoint, limit=100)
        seen.extend(e.position for e in batch)
        if batch:
            checkpoint = batch[-1].position
        else:
            # nothing below the horizon yet: wait for the next append, or re-check soon in
            # case the horizon was held by a transaction that appends nothing
            await store.signal.wait_beyond(store.signal.latest, timeout=0.05)
    return seen


async def test_a_tailing_reader_sees_every_committed_position_once_in_order(
    pg_store: EventStore,
) -> None:
    stop_at = time.monotonic() + WRITE_SECONDS
    last_committed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    reader = asyncio.create_task(tail(pg_store, last_committed))

    batches = await asyncio.gather(*(writer(pg_store, stop_at, seed) for seed in range(WRITERS)))
    committed = set().union(*batches)
    last_committed.set_result(max(committed))
    async with asyncio.timeout(30):
        seen = await reader

    assert len(committed) > 500, "the workload is too small to prove anything"
    assert seen == sorted(seen), "positions must come in order"
    assert len(seen) == len(set(seen)), "no position may come twice"
    assert set(seen) == committed, f"missed {len(committed - set(seen))} committed positions"


async def test_read_log_keeps_the_same_horizon(pg_store: EventStore) -> None:
    async with pg_store.engine.connect() as older, pg_store.engine.connect() as newer:
        older_position = await append_on(pg_store, older)
        await append_on(pg_store, newer)
        await newer.commit()

        held_back = await pg_store.read_log(0)
        await older.commit()

    assert held_back == []
    async with asyncio.timeout(10):
        while len(settled := await pg_store.read_log(0)) < 4:
            await pg_store.signal.wait_beyond(pg_store.signal.latest, timeout=0.05)
    assert settled[1].position == older_position
