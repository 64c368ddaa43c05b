"""`cqrs-orders project [--only NAME ...]`: projection workers, without the API.

Start as many as you like on PostgreSQL: each projection is run by one process at a
time (the holder of its advisory lock, readmodels/running/leases.py) and the others stand by to
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

from readmodels import Projection, ReadSide, default_projections
from schema import collector
from schema.bootstrap import Purpose, open_database
from schema.observability import Observability, ReadingSources
from schema.observability.metrics_server import metrics_server
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
    command.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics, /health/live and /health/ready on this port (0: any free one)",
    )
    command.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST")
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
    await run_projections(settings, chosen, arguments.metrics_host, arguments.metrics_port)
    return 0


async def run_projections(
    settings: Settings,
    projections: Sequence[Projection],
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
) -> None:
    """Run (or stand by for) `projections` until SIGTERM or SIGINT, serving their signals
    on `metrics_port` if given."""
    database = await open_database(settings, Purpose.PROJECT)
    observability = Observability(settings.observability)
    try:
        await observability.start()
        observability.instrument(database)
        observer = observability.observers(database.store).projections
        side = ReadSide.create(database.store, projections, observer=observer)
        sources = ReadingSources(store=database.store, projections=tuple(side.runner.names))
        signals = (
            contextlib.nullcontext()
            if metrics_port is None
            else metrics_server(observability, sources, metrics_host, metrics_port)
        )
        await side.start()
        # as a serving process does (schema/app.py): a full collection of the default pace
        # stopped this runner's loop for 30 to 115 ms (docs/benchmarks.md, lag)
        collector.settle()
        log.info("projection worker up for %s", ", ".join(p.name for p in projections))
        try:
            async with signals:
                await _until_stopped()
        finally:
            await side.close()
    finally:
        await observability.stop()
        await database.close()


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
