"""`cqrs-orders rebuild NAME` / `--all`: replay the event log into projections, with progress."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from eventstore import EventStore
from readmodels import ProjectionState, ReadSide, RebuildProgress
from schema.bootstrap import Purpose, open_database
from schema.cli.progress import Progress
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "rebuild",
        help="empty a projection's read tables and replay the whole event log into them",
        description="Rebuild projections from the event log, with a progress bar on stderr. "
        "Exit status 1 if a projection stops FAILED on an event.",
    )
    which = command.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", help="the projection, e.g. order_views")
    which.add_argument("--all", action="store_true", help="every projection, one after another")
    command.set_defaults(run=run)


async def run(arguments: argparse.Namespace) -> int:
    database = await open_database(Settings.from_environment(), Purpose.REBUILD)
    store = database.store
    side = ReadSide.create(store)
    try:
        known = side.runner.names
        if not arguments.all and arguments.name not in known:
            print(
                f"cqrs-orders: no projection {arguments.name!r} (known: {', '.join(known)})",
                file=sys.stderr,
            )
            return 2
        # no runner here; when a running process holds a projection, that one replays it,
        # and its progress arrives through the checkpoint feed
        await side.start(projections=False)
        healthy = [
            await _rebuild(side, store, name)
            for name in (known if arguments.all else [arguments.name])
        ]
        return 0 if all(healthy) else 1
    finally:
        await side.close()
        await database.close()


async def _rebuild(side: ReadSide, store: EventStore, name: str) -> bool:
    """Rebuild one projection with a progress bar; False if it stopped FAILED."""
    print(f"rebuilding {name}", file=sys.stderr)
    bar = Progress((await store.log_extent())[0], "events", sys.stderr)

    def show(progress: RebuildProgress) -> None:
        bar.advance(progress.done - bar.done)

    await side.runner.rebuild(name, show)
    bar.finish()
    status = side.runner.status(name)
    if status.state is ProjectionState.FAILED:
        print(f"{name} FAILED: {status.last_error}", file=sys.stderr)
    return status.state is not ProjectionState.FAILED
