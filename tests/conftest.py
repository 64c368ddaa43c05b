"""Fixtures shared by every suite: real databases, one SQLite file per test and one
PostgreSQL database per run (emptied between tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import EventStore, create_engine
from migrations import upgrade
from tests.postgres import admin_url, scratch_database

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with admin_url() as admin, scratch_database(admin) as url:
        sqlalchemy_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)

        async def migrate() -> None:
            engine = create_engine(sqlalchemy_url)
            await upgrade(engine)
            await engine.dispose()

        asyncio.run(migrate())
        yield sqlalchemy_url


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'orders.db'}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


async def empty_database(engine: AsyncEngine) -> None:
    """Remove every row of every table but Alembic's, so each test starts from nothing."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            # a test that left a rebuild unfinished left its indexes dropped: ending the
            # rebuild creates them again (migration 0004), before their record goes
            await conn.execute(
                text(
                    "UPDATE projection_checkpoints SET state = 'RUNNING' WHERE state = 'REBUILDING'"
                )
            )
            await conn.execute(text(f"TRUNCATE {', '.join(names)}"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    await empty_database(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    await empty_database(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[EventStore]:
    store = EventStore(engine)
    store.start()
    yield store
    await store.close()


@pytest.fixture
async def pg_store(pg_engine: AsyncEngine) -> AsyncIterator[EventStore]:
    store = EventStore(pg_engine)
    store.start()
    yield store
    await store.close()
