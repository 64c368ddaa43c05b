"""`cqrs-orders rebuild NAME` / `--all`: replay the event log into projections, with progress.

By default into new tables beside the live ones, switched in when caught up (a shadow
build: queries keep answering from complete tables); `--in-place` empties the live tables
and replays into them, needing no second copy of the tables on disk."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from eventstore import EventStore
from readmodels import (
    OtherVersionLive,
    ProjectionState,
    ReadSide,
    RebuildInProgress,
    RebuildProgress,
    ShadowBuildFailed,
)
from schema import collector
from schema.bootstrap import Purpose, open_database
from schema.cli.progress import Progress
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "rebuild",
        help="rebuild a projection's read tables from the whole event log",
        description="Rebuild projections from the event log, with a progress bar on stderr: "
        "into new tables beside the live ones, switched in once caught up, while the live "
        "ones keep serving. Exit status 1 if a projection stops FAILED on an event.",
    )
    command.add_argument(
        "--in-place",
        action="store_true",
        help="empty the live tables and replay into them (queries see partial tables "
        "meanwhile; for when the disk cannot hold a second copy)",
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
        # as the service's processes do (schema/app.py, cli/project.py): the collector's
        # collections of the default pace cost a rebuild a quarter of its CPU
        collector.settle()
        rebuild = _rebuild_in_place if arguments.in_place else _rebuild_in_shadow
        healthy = [
            await rebuild(side, store, name)
            for name in (known if arguments.all else [arguments.name])
        ]
        return 0 if all(healthy) else 1
    finally:
        await side.close()
        await database.close()


async def _rebuild_in_shadow(side: ReadSide, store: EventStore, name: str) -> bool:
    """Build one projection beside its live tables and switch; False if the build stopped
    on an event (the live tables are untouched)."""
    print(f"rebuilding {name} beside its live tables", file=sys.stderr)
    bar = await _progress_bar(store)
    try:
        await side.runner.shadow_rebuild(
            name, lambda progress: bar.advance(progress.done - bar.done)
        )
    except ShadowBuildFailed as failure:
        bar.finish()
        print(f"{name}: the build FAILED, the live tables keep serving: {failure}", file=sys.stderr)
        return False
    except (OtherVersionLive, RebuildInProgress) as refused:
        bar.finish()
        print(f"{name}: not rebuilt: {refused}", file=sys.stderr)
        return False
    bar.finish()
    print(f"{name}: switched to the new tables", file=sys.stderr)
    return True


async def _rebuild_in_place(side: ReadSide, store: EventStore, name: str) -> bool:
    """Rebuild one projection with a progress bar; False if it stopped FAILED."""
    print(f"rebuilding {name} in place", file=sys.stderr)
    bar = await _progress_bar(store)

    def show(progress: RebuildProgress) -> None:
        bar.advance(progress.done - bar.done)

    try:
        await side.runner.rebuild(name, show)
    except (OtherVersionLive, RebuildInProgress) as refused:
        bar.finish()
        print(f"{name}: not rebuilt: {refused}", file=sys.stderr)
        return False
    bar.finish()
    status = side.runner.status(name)
    if status.state is ProjectionState.FAILED:
        print(f"{name} FAILED: {status.last_error}", file=sys.stderr)
    return status.state is not ProjectionState.FAILED


async def _progress_bar(store: EventStore) -> Progress:
    return Progress((await store.log_extent())[0], "events", sys.stderr)
