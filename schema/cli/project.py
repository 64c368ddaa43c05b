"""`cqrs-orders project [--only NAME ...]`: projection workers, without the API.

Start as many as you like on PostgreSQL: each projection is run by one process at a
time (the holder of its advisory lock, readmodels/leases.py) and the others stand by to
take over. API processes then run with `serve --projections off`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from eventstore import DatabaseUnavailable, EventStore, connect_engine
from migrations import pending_revisions
from readmodels import ReadSide, default_projections
from readmodels.projection import Projection
from schema.settings import Settings

log = logging.getLogger(__name__)


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "project",
        help="run the projections without the API (PostgreSQL; several may run, one holds "
        "each projection)",
        description="Keep the read models up to date until SIGTERM or Ctrl-C. Needs "
        "PostgreSQL: on SQLite the projections run inside `cqrs-orders serve`.",
    )
    command.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these projections (default: all of them)",
    )
    command.set_defaults(run=run)


async def run(arguments: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    known = [projection.name for projection in default_projections()]
    unknown = sorted(set(arguments.only or []) - set(known))
    if unknown:
        print(
            f"cqrs-orders: no projection {', '.join(unknown)} (known: {', '.join(known)})",
            file=sys.stderr,
        )
        return 2
    chosen = [p for p in default_projections() if not arguments.only or p.name in arguments.only]
    await run_projections(settings, chosen)
    return 0


async def run_projections(settings: Settings, projections: Sequence[Projection]) -> None:
    """Run (or stand by for) `projections` until SIGTERM or SIGINT."""
    engine = await connect_engine(
        settings.database_url, **settings.pool_options(settings.database_url)
    )
    try:
        if engine.dialect.name != "postgresql":
            raise DatabaseUnavailable(
                "SQLite runs the projections inside `cqrs-orders serve` (a single process); "
                "projection workers need PostgreSQL (set DATABASE_URL)"
            )
        if pending := await pending_revisions(engine):
            raise DatabaseUnavailable(
                f"the database lacks migrations {', '.join(pending)}: run `cqrs-orders migrate`"
            )
        side = ReadSide.create(EventStore(engine), projections)
        await side.start()
        log.info("projection worker up for %s", ", ".join(p.name for p in projections))
        try:
            await _until_stopped()
        finally:
            await side.close()
    finally:
        await engine.dispose()


async def _until_stopped() -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
