"""One way to open the database: connect, check the migrations, build the store.

Every command of the command line and the app's lifespan open the database here, for a
purpose that decides what is checked and what is built, so a database that is not
ready is refused everywhere with the same line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import DatabaseUnavailable, EventStore, connect_engine
from migrations import pending_revisions, upgrade
from schema.settings import Settings


class Purpose(enum.Enum):
    SERVE = "serve"
    PROJECT = "project"
    MIGRATE = "migrate"
    REBUILD = "rebuild"
    STATUS = "status"
    DEMO = "demo"
    OPERATIONS = "operations"


# The embedded default needs no setup step: what serves or loads it migrates it. Commands
# that inspect or replay the log refuse a database no one has set up yet instead.
_MIGRATES_SQLITE = frozenset({Purpose.SERVE, Purpose.DEMO, Purpose.OPERATIONS})


@dataclass(frozen=True, slots=True, kw_only=True)
class Database:
    engine: AsyncEngine
    # READ_DATABASE_URL's, when queries read from a replica (serving only)
    read_engine: AsyncEngine | None
    store: EventStore

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def close(self) -> None:
        await self.store.close()
        if self.read_engine is not None:
            await self.read_engine.dispose()
        await self.engine.dispose()


async def open_database(settings: Settings, purpose: Purpose) -> Database:
    """The database of `settings`, ready for `purpose`, or DatabaseUnavailable with one line."""
    engine = await connect_engine(
        settings.database_url, **settings.pool_options(settings.database_url)
    )
    try:
        is_sqlite = engine.dialect.name == "sqlite"
        if purpose is Purpose.PROJECT and is_sqlite:
            raise DatabaseUnavailable(
                "SQLite runs the projections inside `cqrs-orders serve` (a single process); "
                "projection workers need PostgreSQL (set DATABASE_URL)"
            )
        if purpose is not Purpose.MIGRATE:
            if is_sqlite and purpose in _MIGRATES_SQLITE:
                await upgrade(engine)
            elif pending := await pending_revisions(engine):
                raise DatabaseUnavailable(
                    f"the database lacks migrations {', '.join(pending)}: run `cqrs-orders migrate`"
                )
        read_engine = await _read_engine(settings, engine) if purpose is Purpose.SERVE else None
    except BaseException:
        await engine.dispose()
        raise
    store = EventStore(engine, append_connections=settings.append_connections)
    return Database(engine=engine, read_engine=read_engine, store=store)


async def _read_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine | None:
    """The engine of READ_DATABASE_URL, a PostgreSQL replica of DATABASE_URL, if set."""
    if settings.read_database_url is None:
        return None
    if engine.dialect.name != "postgresql":
        raise DatabaseUnavailable(
            "READ_DATABASE_URL names a replica of DATABASE_URL: both must be PostgreSQL"
        )
    read_engine = await connect_engine(
        settings.read_database_url, **settings.pool_options(settings.read_database_url)
    )
    if read_engine.dialect.name != "postgresql":
        await read_engine.dispose()
        raise DatabaseUnavailable("READ_DATABASE_URL must be a PostgreSQL URL")
    return read_engine
