"""`cqrs-orders token --sub ID [--role R ...] [--ttl S]`: an HS256 token signed with
AUTH_JWT_SECRET, for GraphiQL's Headers tab and for scripts."""

from __future__ import annotations

import argparse
from typing import Any

from schema.identity.settings import AuthSettings
from schema.identity.tokens import mint_token
from schema.invalid_setting import InvalidSetting


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "token",
        help="print an HS256 bearer token signed with AUTH_JWT_SECRET",
        description="Print a bearer token signed with AUTH_JWT_SECRET, with AUTH_ISSUER, "
        "AUTH_AUDIENCE and AUTH_ROLES_CLAIM as the service reads them.",
    )
    command.add_argument(
        "--sub", required=True, type=_text, help="who the token is for: a customer id for customers"
    )
    command.add_argument(
        "--role",
        action="append",
        default=[],
        dest="roles",
        type=_text,
        metavar="ROLE",
        help="a role of the token, repeatable (staff may do everything)",
    )
    command.add_argument(
        "--ttl", type=_seconds, default=3600, metavar="SECONDS", help="lifetime (3600)"
    )
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    settings = AuthSettings.from_environment()
    if settings.jwt_secret is None:
        raise InvalidSetting(
            "set AUTH_JWT_SECRET (32 bytes or more) to sign tokens with it; "
            "the service must be started with the same secret"
        )
    print(
        mint_token(
            settings.jwt_secret,
            sub=arguments.sub,
            roles=arguments.roles,
            ttl_seconds=arguments.ttl,
            issuer=settings.issuer,
            audience=settings.audience,
            roles_claim=settings.roles_claim,
        )
    )
    return 0


def _text(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def _seconds(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, 1 or more: {value!r}")
    return seconds
