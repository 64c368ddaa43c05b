"""`cqrs-orders migrate`: create or upgrade every table."""

from __future__ import annotations

import argparse
from typing import Any

from eventstore import connect_engine
from migrations import pending_revisions, upgrade
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "migrate", help="create or upgrade every table (Alembic)"
    )
    command.set_defaults(run=run)


async def run(_arguments: argparse.Namespace) -> int:
    engine = await connect_engine(Settings.from_environment().database_url)
    try:
        pending = await pending_revisions(engine)
        await upgrade(engine)
    finally:
        await engine.dispose()
    print(f"applied {len(pending)} migration(s): {', '.join(pending)}" if pending else "up to date")
    return 0
