"""The persisted_operations table (migration 0005): documents by SHA-256."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore.database import UtcDateTime

# documents kept in each process: an app ships a few hundred at most
KEPT = 1024

persisted_operations = Table(
    "persisted_operations",
    MetaData(),
    Column("sha256", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("trusted", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


def sha256_of(document: str) -> str:
    """The hash clients send: SHA-256 of the document's UTF-8 text, lower-case hex."""
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredOperation:
    document: str
    trusted: bool


class OperationStore:
    """Registered documents, read from the table and kept once found.

    A hash names one text for good, so a found document is kept; whether it is trusted can
    only turn true (`operations add` on a document a client registered first), so a kept
    untrusted one is read again when trust is asked of it. A missing hash is never kept:
    another process may register it at any moment."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._kept: OrderedDict[str, StoredOperation] = OrderedDict()

    async def find(self, sha256: str, *, trusted: bool = False) -> StoredOperation | None:
        """The document of `sha256`; None when none is registered (or, with `trusted`, none
        registered as trusted)."""
        kept = self._kept.get(sha256)
        if kept is not None and (kept.trusted or not trusted):
            self._kept.move_to_end(sha256)
            return kept
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(persisted_operations.c.document, persisted_operations.c.trusted).where(
                        persisted_operations.c.sha256 == sha256
                    )
                )
            ).first()
        if row is None:
            return None
        found = StoredOperation(document=row.document, trusted=row.trusted)
        self._keep(sha256, found)
        return found if found.trusted or not trusted else None

    async def register(self, document: str, *, trusted: bool) -> str:
        """Store `document` under its hash, and return the hash: a trusted registration
        makes an existing entry trusted, an automatic one leaves it as it is."""
        sha256 = sha256_of(document)
        row = {
            "sha256": sha256,
            "document": document,
            "trusted": trusted,
            "created_at": datetime.now(UTC),
        }
        insert = (
            sqlite_insert(persisted_operations)
            if self._engine.dialect.name == "sqlite"
            else postgres_insert(persisted_operations)
        )
        async with self._engine.begin() as conn:
            await conn.execute(insert.values(row).on_conflict_do_nothing())
            if trusted:
                await conn.execute(
                    update(persisted_operations)
                    .where(persisted_operations.c.sha256 == sha256)
                    .values(trusted=True)
                )
        self._kept.pop(sha256, None)
        return sha256

    def _keep(self, sha256: str, found: StoredOperation) -> None:
        self._kept[sha256] = found
        self._kept.move_to_end(sha256)
        if len(self._kept) > KEPT:
            self._kept.popitem(last=False)
