"""Appends wake readers: in-process at once, and on PostgreSQL other processes by NOTIFY."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from sqlalchemy.engine import make_url

from eventstore import EventStore, NewEvent, PositionSignal
from eventstore.database import PgListener
from eventstore.notify import APPENDED_CHANNEL


async def test_another_process_listening_hears_the_appended_position(pg_store: EventStore) -> None:
    heard: asyncio.Queue[int] = asyncio.Queue()
    # a listener on its own connection is what another process would run
    listener = PgListener(
        make_url(pg_store.engine.url.render_as_string(hide_password=False)),
        {APPENDED_CHANNEL: lambda payload: heard.put_nowait(int(payload))},
    )
    listener.start()
    try:
        async with asyncio.timeout(10):
            await listener.connected.wait()
            result = await pg_store.append(
                "s-1", "S", [NewEvent(event_type="E", schema_version=1, data={})], 0, uuid4()
            )
            while (position := await heard.get()) < result.position:
                pass
        assert position == result.position
    finally:
        await listener.close()


async def test_a_lower_position_is_news_but_not_a_new_maximum() -> None:
    signal = PositionSignal()
    signal.publish(20)
    seen = signal.generation
    any_news = asyncio.create_task(signal.wait_after(seen))
    new_maximum = asyncio.create_task(signal.wait_beyond(20))

    signal.publish(10)  # an older transaction's append, committed late

    assert await any_news == seen + 1
    assert not new_maximum.done()
    signal.publish(30)
    assert await new_maximum == 30
