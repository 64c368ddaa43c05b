"""`cqrs-orders status`: each projection's position, the head of the log, lag, state, error,
and a shadow build of it under way or failed (`cqrs-orders rebuild`).

It reads the checkpoint table and the head of the log, and builds no read side.
"""

from __future__ import annotations

import argparse
from typing import Any

from readmodels import ProjectionState, default_projections, read_statuses, shadow_checkpoint
from schema.bootstrap import Purpose, open_database
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "status",
        help="each projection's position, the head of the log, lag, state and last error",
        description="Exit status 1 if a projection is FAILED.",
    )
    command.set_defaults(run=run)


async def run(_arguments: argparse.Namespace) -> int:
    database = await open_database(Settings.from_environment(), Purpose.STATUS)
    try:
        projections = default_projections()
        names = [projection.name for projection in projections]
        statuses = await read_statuses(database.store, names)
        shadows = await read_statuses(
            database.store, [shadow_checkpoint(p.name, p.version) for p in projections]
        )
    finally:
        await database.close()
    print(
        f"{'projection':<20} {'position':>20} {'head':>20} {'lag':>14}  {'state':<10} "
        f"{'version':>7}  updated"
    )
    for status, shadow in zip(statuses, shadows, strict=True):
        updated = status.updated_at.isoformat(timespec="seconds") if status.updated_at else "-"
        print(
            f"{status.name:<20} {status.position:>20} {status.head_position:>20} "
            f"{status.lag:>14}  {status.state.value:<10} {status.version:>7}  {updated}"
        )
        if status.last_error:
            print(f"  last error: {status.last_error}")
        if shadow.updated_at is not None:  # a checkpoint row: a build under way or failed
            print(
                f"  shadow build {shadow.name}: {shadow.position}/{shadow.head_position} "
                f"{shadow.state.value}"
            )
            if shadow.last_error:
                print(f"    last error: {shadow.last_error}")
    return 1 if any(s.state is ProjectionState.FAILED for s in statuses) else 0
