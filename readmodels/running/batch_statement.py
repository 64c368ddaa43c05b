"""A batch's rows and its checkpoint as one statement (PostgreSQL).

The checkpoint's guarded UPDATE is the first data-modifying CTE, and each upsert selects
its rows only where that UPDATE returned a row: a batch whose checkpoint was overtaken
writes nothing, and the statement returns no row. One statement is one transaction, so
rows and checkpoint commit together without BEGIN and COMMIT round trips, and the batch
costs the server one round trip, where a transaction of its statements cost five or six
(each ~0.1 ms of client CPU in the send alone on a loopback socket).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Dialect

from readmodels.held_rows import Upsert
from readmodels.sql import pg_upsert
from readmodels.status import checkpoints

_GATE = "EXISTS (SELECT FROM checkpoint)"


def batch_statement(
    dialect: Dialect,
    upserts: Sequence[Upsert],
    name: str,
    *,
    revision: int,
    version: int,
    to: int,
    caught_up: bool,
) -> tuple[str, list[Any]]:
    """The statement that writes `upserts` and advances checkpoint `name` from `revision`
    to position `to`, and its arguments; it returns the changed checkpoint, or nothing."""
    advance, arguments = checkpoints.pg_advance(dialect, name, revision, version, to, caught_up)
    parts = [f"checkpoint AS ({advance})"]
    for index, upsert in enumerate(upserts):
        statement, more = pg_upsert(dialect, upsert, first=len(arguments) + 1, gate=_GATE)
        parts.append(f"rows_{index} AS ({statement})")
        arguments.extend(more)
    columns = ", ".join(column.name for column in checkpoints.projection_checkpoints.c)
    return f"WITH {', '.join(parts)} SELECT {columns} FROM checkpoint", arguments
