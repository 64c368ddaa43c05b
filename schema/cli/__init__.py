"""The `cqrs-orders` command line: one module per subcommand, each adding its own parser."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from eventstore import DatabaseUnavailable
from schema.cli import demo, migrate, operations, project, rebuild, serve, status, token
from schema.invalid_setting import InvalidSetting
from schema.observability.json_logs import configure_logging

SUBCOMMANDS = [serve, project, migrate, rebuild, status, demo, token, operations]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cqrs-orders",
        description="An order service built on CQRS and event sourcing, served as GraphQL. "
        "DATABASE_URL selects the database (default: SQLite file orders.db here).",
    )
    subcommands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(subcommands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging(os.environ.get("LOG_FORMAT"))
    arguments = parser().parse_args(argv)
    try:
        result = arguments.run(arguments)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except (DatabaseUnavailable, InvalidSetting) as error:
        print(f"cqrs-orders: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
