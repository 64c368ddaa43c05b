"""Scale-out tests: real API and projection worker processes on the run's PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.scaleout.counting import CREATE_TABLE, NAME
from tests.scaleout.database import connected


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scaleout: starts several server processes (each test bounded by its own timeout)",
    )


@pytest.fixture
async def database(pg_engine: AsyncEngine, postgres_url: str) -> AsyncIterator[str]:
    """The run's database, emptied, with the counting projection's table; its URL. The
    table and its checkpoint go afterwards: the database is shared with other tests."""
    async with connected(postgres_url) as connection:
        await connection.execute(CREATE_TABLE)
    yield postgres_url
    async with connected(postgres_url) as connection:
        await connection.execute(f"DROP TABLE {NAME}")
        await connection.execute("DELETE FROM projection_checkpoints WHERE name = $1", NAME)
