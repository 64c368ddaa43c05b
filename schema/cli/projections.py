"""`cqrs-orders rebuild` and `cqrs-orders status`: rebuild projections, show where they stand."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from eventstore import EventStore, connect_engine
from migrations import pending_revisions
from readmodels import (
    GetProjectionStatuses,
    ProjectionState,
    ReadSide,
    RebuildProgress,
)
from readmodels.rebuild import log_extent
from schema.cli.progress import Progress
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    rebuild: argparse.ArgumentParser = subcommands.add_parser(
        "rebuild",
        help="empty a projection's read tables and replay the whole event log into them",
        description="Rebuild projections from the event log, with a progress bar on stderr. "
        "Exit status 1 if a projection stops FAILED on an event.",
    )
    which = rebuild.add_mutually_exclusive_group(required=True)
    which.add_argument("name", nargs="?", help="the projection, e.g. order_views")
    which.add_argument("--all", action="store_true", help="every projection, one after another")
    rebuild.set_defaults(run=run_rebuild)
    status: argparse.ArgumentParser = subcommands.add_parser(
        "status",
        help="each projection's position, the head of the log, lag, state and last error",
        description="Exit status 1 if a projection is FAILED.",
    )
    status.set_defaults(run=run_status)


async def run_rebuild(arguments: argparse.Namespace) -> int:
    store = await _open_store()
    if store is None:
        return 2
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
        await store.engine.dispose()


async def _rebuild(side: ReadSide, store: EventStore, name: str) -> bool:
    """Rebuild one projection with a progress bar; False if it stopped FAILED."""
    print(f"rebuilding {name}", file=sys.stderr)
    bar = Progress((await log_extent(store))[0], "events", sys.stderr)

    def show(progress: RebuildProgress) -> None:
        bar.advance(progress.done - bar.done)

    await side.runner.rebuild(name, show)
    bar.finish()
    status = side.runner.status(name)
    if status.state is ProjectionState.FAILED:
        print(f"{name} FAILED: {status.last_error}", file=sys.stderr)
    return status.state is not ProjectionState.FAILED


async def run_status(_arguments: argparse.Namespace) -> int:
    store = await _open_store()
    if store is None:
        return 2
    try:
        statuses = (await ReadSide.create(store).bus.ask(GetProjectionStatuses())).value
    finally:
        await store.engine.dispose()
    print(f"{'projection':<20} {'position':>20} {'head':>20} {'lag':>14}  {'state':<10} updated")
    for status in statuses:
        updated = status.updated_at.isoformat(timespec="seconds") if status.updated_at else "-"
        print(
            f"{status.name:<20} {status.position:>20} {status.head_position:>20} "
            f"{status.lag:>14}  {status.state.value:<10} {updated}"
        )
        if status.last_error:
            print(f"  last error: {status.last_error}")
    return 1 if any(s.state is ProjectionState.FAILED for s in statuses) else 0


async def _open_store() -> EventStore | None:
    """The store of DATABASE_URL, or None (said on stderr) while migrations are pending."""
    engine = await connect_engine(Settings.from_environment().database_url)
    if await pending_revisions(engine):
        await engine.dispose()
        print(
            "cqrs-orders: the database is not migrated; run `cqrs-orders migrate`", file=sys.stderr
        )
        return None
    return EventStore(engine)
