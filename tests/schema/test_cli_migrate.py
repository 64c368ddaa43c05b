"""`cqrs-orders migrate` against real databases, and its one-line failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from eventstore import create_engine


def cli(*args: str, database_url: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "schema.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_migrate_creates_the_default_sqlite_file_then_is_up_to_date(tmp_path: Path) -> None:
    first = cli("migrate", database_url=None, cwd=tmp_path)
    second = cli("migrate", database_url=None, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout
    assert second.stdout.strip() == "up to date"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert {"events", "handled_commands", "alembic_version"} <= tables


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@127.0.0.1/x", "supported: sqlite+aiosqlite, postgresql+asyncpg"),
        ("postgresql+asyncpg://postgres@127.0.0.1:1/x", "cannot connect to"),
    ],
)
def test_a_bad_database_url_fails_with_one_clear_line(url: str, says: str, tmp_path: Path) -> None:
    result = cli("migrate", database_url=url, cwd=tmp_path)

    assert result.returncode == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
