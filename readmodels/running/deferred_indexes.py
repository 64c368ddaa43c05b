"""Dropping a projection's secondary indexes for its rebuild (PostgreSQL).

Migration 0004 explains the scheme and holds the trigger that creates them again when
the rebuild ends. The definitions are read from the catalog, so the migrations stay
the only place that says what the indexes are.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

# Unique indexes stay: the projections' upserts resolve conflicts on them.
_SECONDARY_INDEXES = text("""
SELECT index_class.relname, pg_get_indexdef(index_class.oid)
FROM pg_index
JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
WHERE pg_index.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT pg_index.indisunique
ORDER BY index_class.relname
""")

_RECORD = text("""
INSERT INTO deferred_indexes (projection, index_name, definition)
VALUES (:projection, :index_name, :definition)
""")


async def defer(conn: AsyncConnection, projection: str, tables: Sequence[Table]) -> None:
    """Drop the secondary indexes of `tables`, to be created again when `projection`'s
    checkpoint leaves REBUILDING. Those of a rebuild reset again before it ended are
    already gone, and still recorded."""
    if conn.dialect.name != "postgresql":
        return
    names = [table.name for table in tables]
    indexes = (await conn.execute(_SECONDARY_INDEXES, {"tables": names})).all()
    for name, definition in indexes:
        await conn.execute(
            _RECORD, {"projection": projection, "index_name": name, "definition": definition}
        )
        await conn.execute(text(f'DROP INDEX "{name}"'))
