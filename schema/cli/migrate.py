"""`cqrs-orders migrate`: create or upgrade every table."""

from __future__ import annotations

import argparse
from typing import Any

from migrations import pending_revisions, upgrade
from schema.bootstrap import Purpose, open_database
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "migrate", help="create or upgrade every table (Alembic)"
    )
    command.set_defaults(run=run)


async def run(_arguments: argparse.Namespace) -> int:
    database = await open_database(Settings.from_environment(), Purpose.MIGRATE)
    try:
        pending = await pending_revisions(database.engine)
        await upgrade(database.engine)
    finally:
        await database.close()
    print(f"applied {len(pending)} migration(s): {', '.join(pending)}" if pending else "up to date")
    return 0
