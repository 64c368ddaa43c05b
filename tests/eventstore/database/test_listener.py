"""The LISTEN connection comes back when dropped, and hears again."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.engine import make_url

from eventstore import EventStore, NewEvent
from eventstore.database import PgListener
from eventstore.notify import APPENDED_CHANNEL


async def test_a_dropped_listen_connection_comes_back_and_hears_again(pg_store: EventStore) -> None:
    heard: asyncio.Queue[int] = asyncio.Queue()
    connects: asyncio.Queue[None] = asyncio.Queue()

    async def connected() -> None:
        connects.put_nowait(None)

    listener = PgListener(
        make_url(pg_store.engine.url.render_as_string(hide_password=False)),
        {APPENDED_CHANNEL: lambda payload: heard.put_nowait(int(payload))},
        on_connected=connected,
        reconnect_delay=0.05,
    )
    listener.start()
    try:
        async with asyncio.timeout(10):
            await connects.get()
            async with pg_store.engine.connect() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                    )
                )
            await connects.get()  # the listener noticed, reconnected and listens again
            result = await pg_store.append(
                "s-2", "S", [NewEvent(event_type="E", schema_version=1, data={})], 0, uuid4()
            )
            while (position := await heard.get()) < result.position:
                pass
        assert position == result.position
    finally:
        await listener.close()
