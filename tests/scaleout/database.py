"""What the tests observe in PostgreSQL: lock holders, checkpoints, read tables, the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

import asyncpg

from readmodels.running.leases import LOCK_NAMESPACE
from readmodels.status.checkpoints import CHECKPOINT_CHANNEL
from tests.scaleout.counting import NAME as COUNTING

DEFAULT_PROJECTIONS = ("order_views", "customer_summaries")
ALL_PROJECTIONS = (*DEFAULT_PROJECTIONS, COUNTING)
READ_TABLES = {
    "order_views": "order_id",
    "customer_summaries": "customer_id",
    "customer_orders": "order_id",
}
# the tests' own connections, which the tests must not terminate along with the service's
APPLICATION = "scaleout-test"
POLL_SECONDS = 0.05


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(plain, server_settings={"application_name": APPLICATION})
    try:
        yield connection
    finally:
        await connection.close()


async def eventually(check: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    """The first truthy answer of `check`, asked again every POLL_SECONDS for `within` seconds:
    for conditions that PostgreSQL shows but announces to no one (pg_locks, pg_stat_activity)."""
    answer = None
    try:
        async with asyncio.timeout(within):
            while not (answer := await check()):  # noqa: ASYNC110 - nothing to wait on
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what} (last: {answer!r})") from None
    return answer


async def lock_requests(connection: asyncpg.Connection, projection: str) -> list[asyncpg.Record]:
    """The backends that hold (granted) or wait for the projection's advisory lock."""
    rows: list[asyncpg.Record] = await connection.fetch(
        """
        SELECT l.pid, l.granted FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND d.datname = current_database()
          AND l.classid = $1::bigint::oid
          AND l.objid = (hashtext($2)::bigint & 4294967295)::oid AND l.objsubid = 2
        """,
        LOCK_NAMESPACE,
        projection,
    )
    return rows


async def lock_holder(connection: asyncpg.Connection, projection: str) -> int | None:
    """The backend pid granted the projection's lock, if any."""
    granted = [row["pid"] for row in await lock_requests(connection, projection) if row["granted"]]
    assert len(granted) <= 1, f"{projection}: the lock is granted to {granted}"
    return granted[0] if granted else None


async def checkpoints(connection: asyncpg.Connection) -> dict[str, int]:
    rows = await connection.fetch("SELECT name, position FROM projection_checkpoints")
    return {row["name"]: row["position"] for row in rows}


async def projected(
    url: str, position: int, within: float, names: Collection[str] = ALL_PROJECTIONS
) -> None:
    """Until every named projection has committed a checkpoint at `position` or beyond,
    heard from the NOTIFY of each checkpoint change (the table is read once after LISTEN,
    for the changes made before)."""
    heard: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    def on_notify(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        fields = json.loads(payload)
        heard.put_nowait((fields["name"], int(fields["position"])))

    async with connected(url) as connection:
        await connection.add_listener(CHECKPOINT_CHANNEL, on_notify)
        reached = {n: p for n, p in (await checkpoints(connection)).items() if n in names}
        try:
            async with asyncio.timeout(within):
                while any(reached.get(name, -1) < position for name in names):
                    name, at = await heard.get()
                    reached[name] = max(at, reached.get(name, -1))
        except TimeoutError:
            raise AssertionError(
                f"projections not at {position} within {within} s: {reached}"
            ) from None


async def read_tables(connection: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model table of the default projections, in key order."""
    return {
        table: [
            tuple(row) for row in await connection.fetch(f"SELECT * FROM {table} ORDER BY {key}")
        ]
        for table, key in READ_TABLES.items()
    }


async def applications(connection: asyncpg.Connection) -> tuple[int, int, int]:
    """(events in the log, events the counting projection applied, applied more than once)."""
    row = await connection.fetchrow(
        f"""
        SELECT (SELECT count(*) FROM events) AS logged,
               (SELECT count(*) FROM events JOIN {COUNTING} USING (position)) AS applied,
               (SELECT count(*) FROM {COUNTING} WHERE applications <> 1) AS repeated
        """
    )
    assert row is not None
    return row["logged"], row["applied"], row["repeated"]
