"""Engines for the two supported databases, configured the way the event log and the read
side need them. SQLite's single writer of a process is database/sqlite_writer.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class DatabaseUnavailable(Exception):
    """The configured database URL is malformed, unsupported or unreachable."""


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(f"DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseUnavailable(
            f"DATABASE_URL uses {parsed.drivername!r}; supported: {', '.join(SUPPORTED_DRIVERS)}"
        )
    return parsed


def create_engine(url: str | URL, **options: Any) -> AsyncEngine:
    """An engine that connects lazily: nothing touches the database until first use."""
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.drivername.startswith("sqlite"):
        engine = create_async_engine(parsed, **options)
        _configure_sqlite(engine)
        return engine
    # one of several pools of a process: docs/deployment.md counts them all
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    return create_async_engine(parsed, **options)


def driver_dsn(url: URL) -> str:
    """The URL as asyncpg itself takes it, for the connections that bypass SQLAlchemy."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def connect_engine(url: str | URL, **options: Any) -> AsyncEngine:
    """Create an engine and prove the database answers, or fail with one clear line."""
    engine = create_engine(url, **options)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:
        await engine.dispose()
        shown = engine.url.render_as_string(hide_password=True)
        # the driver's words, not SQLAlchemy's wrapper around them
        cause = getattr(error, "orig", None) or error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise DatabaseUnavailable(f"cannot connect to {shown}: {reason}") from None
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would otherwise
        # begin transactions on its own terms; "begin" below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the single writer; FULL keeps every committed
        # command across a power loss; the timeout makes a second writer wait, not fail.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")
