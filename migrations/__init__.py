"""Alembic migrations of every table, runnable from code on an async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # env.py runs the migrations on this connection instead of opening its own
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Create or upgrade every table to `revision`."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions that `upgrade` would apply, oldest first."""

    def read(connection: Connection) -> list[str]:
        current = set(MigrationContext.configure(connection).get_current_heads())
        script = ScriptDirectory.from_config(alembic_config())
        pending = []
        for revision in script.walk_revisions():
            if revision.revision in current:
                break
            pending.append(revision.revision)
        return list(reversed(pending))

    async with engine.connect() as conn:
        return await conn.run_sync(read)
