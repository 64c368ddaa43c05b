"""`cqrs-orders operations add FILE.graphql...`: register the documents an app ships as
trusted, the only ones served with PERSISTED_OPERATIONS=only.

Each file is one document, registered as its exact text: the SHA-256 of that text is the
hash the app sends (`extensions.persistedQuery.sha256Hash`), so the file must be the very
text the app's build hashes. A document that does not validate against the served schema
is refused, and nothing is registered.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from graphql import GraphQLError, parse, validate

from schema.app import build_schema
from schema.bootstrap import Purpose, open_database
from schema.invalid_setting import InvalidSetting
from schema.persisted_operations import OperationStore
from schema.settings import Settings


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "operations",
        help="register trusted documents (for PERSISTED_OPERATIONS=only)",
        description="Persisted operations, shared by every process through the database.",
    )
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="register each FILE's document as trusted; print its hash",
        description="Register each file's text, exactly, as a trusted document, and print "
        "`<sha256>  <file>` for each.",
    )
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.set_defaults(run=run_add)


async def run_add(arguments: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    documents = [(path, _checked(path, settings)) for path in arguments.files]
    database = await open_database(settings, Purpose.OPERATIONS)
    try:
        store = OperationStore(database.engine)
        for path, document in documents:
            print(f"{await store.register(document, trusted=True)}  {path}")
    finally:
        await database.close()
    return 0


def _checked(path: Path, settings: Settings) -> str:
    """The file's text, if it is a document valid against the served schema."""
    try:
        document = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidSetting(f"cannot read {path}: {error}") from None
    try:
        errors = validate(build_schema(settings)._schema, parse(document))
    except GraphQLError as error:
        errors = [error]
    if errors:
        raise InvalidSetting(f"{path} is not a valid document: {errors[0].message}")
    return document
