"""A batch's upserts held back for the runner's one statement, and the rows it wrote last.

On PostgreSQL the runner applies a batch on a connection that holds its upserts (`hold`):
readmodels.sql.upsert only adds them to the HeldBatch, for the runner to send with the
checkpoint in one statement (running/batch_statement.py), and readmodels.sql.rows_by_key
reads outside any transaction, and first from the RowCache: the rows as the runner last
wrote them, which are the table's as long as the checkpoint keeps the revision they were
committed with (every change of the checkpoint row bumps it, and every writer of the
tables changes the checkpoint in the same transaction).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from readmodels.sql import Row, Update

# rows kept per projection: a few MB of order_views rows, and more than the orders a
# busy shop moves on in the minutes they are likely to be moved on again
ROW_CACHE_SIZE = 4096

# conn.info's key of the batch held on a connection
_HELD = "readmodels.held_batch"


@dataclass(frozen=True, slots=True)
class Upsert:
    """An upsert as readmodels.sql.upsert takes it, to send now or with a batch."""

    table: Table
    rows: Sequence[Row]
    key: tuple[str, ...]
    update: Update | None


class RowCache:
    """Whole rows as last written (by upserts that replace rows, keyed by one column),
    at most `size` of them, the least recently used dropped first; they are the tables'
    rows at checkpoint revision `revision` (None: none kept)."""

    def __init__(self, size: int = ROW_CACHE_SIZE) -> None:
        self.revision: int | None = None
        self._size = size
        self._rows: OrderedDict[tuple[str, str, Any], Mapping[str, Any]] = OrderedDict()

    def valid_at(self, revision: int) -> RowCache:
        """This cache, emptied unless its rows are those of `revision`."""
        if revision != self.revision:
            self._rows.clear()
            self.revision = None
        return self

    def lookup(
        self, table: Table, key: Column[Any], values: Sequence[Any]
    ) -> tuple[list[Mapping[str, Any]], list[Any]]:
        """The rows kept of those asked for, and the key values of the others."""
        found, missing = [], []
        for value in values:
            cached = (table.name, key.name, value)
            row = self._rows.get(cached)
            if row is None:
                missing.append(value)
            else:
                self._rows.move_to_end(cached)
                found.append(row)
        return found, missing

    def committed(self, upserts: Sequence[Upsert], revision: int) -> None:
        """Keep the rows of `upserts`, just committed with checkpoint revision `revision`."""
        rows = self._rows
        for upsert in upserts:
            if upsert.update is not None or len(upsert.key) != 1:
                continue  # what the table holds after it is the database's sum
            (key,) = upsert.key
            for row in upsert.rows:
                cached = (upsert.table.name, key, row[key])
                rows[cached] = row
                rows.move_to_end(cached)
        while len(rows) > self._size:
            rows.popitem(last=False)
        self.revision = revision


@dataclass(slots=True)
class HeldBatch:
    cache: RowCache
    upserts: list[Upsert] = field(default_factory=list)


@contextlib.contextmanager
def hold(conn: AsyncConnection, cache: RowCache) -> Iterator[HeldBatch]:
    """Hold the upserts made on `conn` in the batch yielded, and read through `cache`."""
    batch = HeldBatch(cache)
    conn.info[_HELD] = batch
    try:
        yield batch
    finally:
        # the info dict outlives the checkout: it belongs to the pooled connection
        del conn.info[_HELD]


def held(conn: AsyncConnection) -> HeldBatch | None:
    """The batch `conn` holds its upserts in, if it holds them."""
    batch: HeldBatch | None = conn.info.get(_HELD)
    return batch
