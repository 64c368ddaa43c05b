"""Which process runs a projection: on PostgreSQL, the one holding its advisory lock.

Each projection has a session-level advisory lock, taken on a connection of its own that
does nothing else. Every process that may run the projection asks for the lock and waits
in `pg_advisory_lock`; the server grants it to one, and hands it to the next waiter the
moment the holder's session ends, whether the holder closed it, was killed (kill -9
closes its sockets) or lost its connection. So takeover needs no timer and no protocol of
our own.

Correctness does not rest on the lock: a checkpoint moves only from where its batch
began (checkpoints.py), so a holder that has lost its lock and not yet noticed cannot
apply a batch twice, only waste one. The lock keeps that from being the normal case.

A holder notices a lost connection at once when the socket closes; a silent network
failure is caught by a heartbeat on the lock connection, and on the server side by TCP
keepalives, after which the server ends the session and frees the lock for the others.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import asyncpg
from sqlalchemy.engine import URL

from eventstore.database import cancel_and_wait, driver_dsn

log = logging.getLogger(__name__)

# the first key of every lock of ours, the second is hashtext(projection name): tells our
# locks apart in pg_locks (classid) from other users of advisory locks in the database
LOCK_NAMESPACE = 0x63717273  # "cqrs"
HEARTBEAT_SECONDS = 5.0
RETRY_SECONDS = 1.0
# the server gives up on a silent client after idle + interval * count seconds
KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


class Lease(Protocol):
    """The right to run one projection until `lost` is set or it is released."""

    @property
    def lost(self) -> asyncio.Event: ...

    async def release(self) -> None: ...


class Leases(Protocol):
    async def acquire(self, name: str) -> Lease:
        """Wait until this process may run projection `name`."""
        ...

    async def try_acquire(self, name: str) -> Lease | None:
        """The lease if no other process holds it now, else None."""
        ...


class SoleProcessLeases:
    """SQLite: one process runs everything, so every lease is granted and never lost."""

    async def acquire(self, name: str) -> Lease:
        return _SoleLease()

    async def try_acquire(self, name: str) -> Lease | None:
        return _SoleLease()


class _SoleLease:
    def __init__(self) -> None:
        self.lost = asyncio.Event()

    async def release(self) -> None:
        pass


class AdvisoryLockLeases:
    """PostgreSQL: a session advisory lock per projection, each on its own connection."""

    def __init__(self, url: URL) -> None:
        self._dsn = driver_dsn(url)

    async def acquire(self, name: str) -> Lease:
        while True:
            try:
                connection = await self._connect()
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("projection %s: cannot reach the database (%s)", name, error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            try:
                await connection.execute("SELECT pg_advisory_lock($1, hashtext($2))", *_key(name))
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("projection %s: waiting for its lock failed (%s)", name, error)
                await _close(connection)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except BaseException:
                # leaving while waiting in pg_advisory_lock: ending the session ends the wait,
                # where a graceful close would first wait for the server to confirm a cancel
                connection.terminate()
                raise
            return _AdvisoryLease(name, connection)

    async def try_acquire(self, name: str) -> Lease | None:
        connection = await self._connect()
        try:
            granted = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", *_key(name)
            )
        except BaseException:
            await _close(connection)
            raise
        if not granted:
            await _close(connection)
            return None
        return _AdvisoryLease(name, connection)

    async def _connect(self) -> asyncpg.Connection:
        """A connection of its own; when the waiter is cancelled mid-connect (its runner
        closing), the connect still ends and is closed: asyncpg cancelled in its handshake
        leaves the socket open."""
        connecting = asyncio.ensure_future(asyncpg.connect(self._dsn, server_settings=KEEPALIVES))
        try:
            return await asyncio.shield(connecting)
        except asyncio.CancelledError:
            connecting.add_done_callback(_terminate_when_connected)
            raise


class _AdvisoryLease:
    def __init__(self, name: str, connection: asyncpg.Connection) -> None:
        self.lost = asyncio.Event()
        self._name = name
        self._connection = connection
        connection.add_termination_listener(lambda _connection: self.lost.set())
        self._heartbeat = asyncio.create_task(self._beat(), name=f"lease-{name}")

    async def release(self) -> None:
        try:
            await cancel_and_wait([self._heartbeat])
        except BaseException:
            # cancelled while the heartbeat ends (its runner closing as it lets go): the
            # session must end all the same, or the lock stays held and the socket open
            self._connection.terminate()
            raise
        # ending the session frees the lock, and the next waiter gets it at once
        await _close(self._connection)

    async def _beat(self) -> None:
        while not self.lost.is_set():
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    await self._connection.execute("SELECT 1")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                log.warning("projection %s: its lock connection failed (%r)", self._name, error)
                self.lost.set()


def _key(name: str) -> tuple[int, str]:
    return LOCK_NAMESPACE, name


async def _close(connection: asyncpg.Connection) -> None:
    try:
        # asyncpg's own close timeout does not cover waiting for a cancelled statement
        async with asyncio.timeout(1):
            await connection.close()
    except Exception:  # a connection that is broken or slow to close can only be dropped
        connection.terminate()


def _terminate_when_connected(connecting: asyncio.Future[asyncpg.Connection]) -> None:
    if connecting.cancelled():
        return
    if connecting.exception() is None:
        connecting.result().terminate()
