"""`cqrs-orders status`: each projection's position, the head of the log, lag, state, error,
its live version next to this code's, and a shadow build of it under way or failed
(`cqrs-orders rebuild`, or a deploy of a newer version) with its rate and time to go.

It reads the checkpoint table and the head of the log, and builds no read side.
"""

from __future__ import annotations

import argparse
from typing import Any

from readmodels import BuildStatus, ProjectionState, default_projections, read_statuses
from schema.bootstrap import Purpose, open_database
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "status",
        help="each projection's position, the head of the log, lag, state, last error, "
        "version, and a shadow build under way",
        description="Exit status 1 if a projection is FAILED.",
    )
    command.set_defaults(run=run)


async def run(_arguments: argparse.Namespace) -> int:
    database = await open_database(Settings.from_environment(), Purpose.STATUS)
    try:
        projections = default_projections()
        statuses = await read_statuses(
            database.store, [projection.name for projection in projections], with_builds=True
        )
    finally:
        await database.close()
    print(
        f"{'projection':<20} {'position':>20} {'head':>20} {'lag':>14}  {'state':<10} "
        f"{'version':>7} {'code':>5}  updated"
    )
    for status, projection in zip(statuses, projections, strict=True):
        updated = status.updated_at.isoformat(timespec="seconds") if status.updated_at else "-"
        print(
            f"{status.name:<20} {status.position:>20} {status.head_position:>20} "
            f"{status.lag:>14}  {status.state.value:<10} {status.version:>7} "
            f"{projection.version:>5}  {updated}"
        )
        if status.last_error:
            print(f"  last error: {status.last_error}")
        if projection.version < status.version:
            print(f"  version {status.version} is live: this code ({projection.version}) is older")
        if status.build is not None:
            print(f"  {describe(status.build)}")
            if status.build.last_error:
                print(f"    last error: {status.build.last_error}")
    return 1 if any(s.state is ProjectionState.FAILED for s in statuses) else 0


def describe(build: BuildStatus) -> str:
    rate, eta = build.events_per_second, build.eta_seconds
    return (
        f"building version {build.version}: {build.position}/{build.head_position} "
        f"{build.state.value}, "
        + ("rate unknown yet" if rate is None else f"{rate:,.0f} events/s")
        + ("" if eta is None else f", about {eta:,.0f} s to go")
        + f" (updated {build.updated_at.isoformat(timespec='seconds')})"
    )
