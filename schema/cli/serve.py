"""`cqrs-orders serve`: the GraphQL API under uvicorn, with the projections in-process.

With `--workers N` on PostgreSQL every worker process stands by for every projection and
one runs each (readmodels/running/leases.py); `--projections off` leaves them to `project`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from dataclasses import replace
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from eventstore import DatabaseUnavailable
from schema.observability import multiprocess
from schema.observability.json_logs import logging_config
from schema.observability.settings import LogFormat
from schema.services import Services
from schema.settings import Settings

# graphql-transport-ws messages are small; a client sending megabytes is misbehaving
MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "serve", help="serve the GraphQL API (http://HOST:PORT/graphql)"
    )
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    command.add_argument(
        "--projections",
        choices=("on", "off"),
        default=None,
        help="run the projections in this process (default on; env PROJECTIONS)",
    )
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    if arguments.projections is not None:
        # the app factory reads the environment in every worker process
        os.environ["PROJECTIONS"] = arguments.projections
    settings = Settings.from_environment()
    is_sqlite = settings.database_url.startswith("sqlite")
    if is_sqlite and arguments.workers > 1:
        raise DatabaseUnavailable(
            "SQLite has a single writer: --workers needs PostgreSQL (set DATABASE_URL)"
        )
    if is_sqlite and not settings.projections:
        raise DatabaseUnavailable(
            "SQLite runs the projections in the API process: --projections off needs "
            "PostgreSQL, where `cqrs-orders project` runs them (set DATABASE_URL)"
        )
    # fail here with one line rather than inside every worker's startup
    asyncio.run(check_database(settings))
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signals = settings.observability
    # LOG_FORMAT=json: uvicorn's lines too, in every worker (uvicorn applies it in each)
    logs = (
        LOGGING_CONFIG
        if signals.log_format is LogFormat.PLAIN
        else logging_config(signals.log_format)
    )
    with multiprocess.worker_directory(arguments.workers, signals.metrics):
        uvicorn.run(
            "schema.app:served_app",
            factory=True,
            host=arguments.host,
            port=arguments.port,
            workers=arguments.workers,
            ws_max_size=MAX_WEBSOCKET_MESSAGE_BYTES,
            # messages are small JSON: compressing each for each subscriber cost more server
            # time than everything else of a fan-out but the socket writes
            ws_per_message_deflate=False,
            log_level="info",
            # a log line per request costs more server time than a small query's own reads:
            # ACCESS_LOG=on has the app write them (schema/observability/request_signals.py)
            access_log=False,
            log_config=logs,
        )
    return 0


async def check_database(settings: Settings) -> None:
    """Start and stop the services once: proves the database answers and is migrated (the
    embedded default is migrated here), before uvicorn forks its workers."""
    services = await Services.start(replace(settings, projections=False))
    await services.stop()


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal, which would end
    # the process with -15; a supervisor should see the clean exit it asked for
    raise SystemExit(0)
