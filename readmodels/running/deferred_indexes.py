"""Indexes of a projection's tables set aside for its rebuild, built once when it ends.

PostgreSQL drops the secondary indexes (migration 0004 explains the scheme and holds the
trigger that creates them again when the rebuild ends). SQLite's triggers cannot create
an index, so there only the full-text index of order_views is set aside, its row by row
upkeep being nearly all of an insert's cost: its triggers leave it alone while it is
recorded here, and migration 0008's trigger rebuilds it when the rebuild ends. Either
way the definitions are read from the catalog, so the migrations stay the only place
that says what the indexes are.
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

# a full-text index whose content is the table (as shadow_tables.py finds them)
_SQLITE_CONTENT_INDEXES = text("""
SELECT name, sql FROM sqlite_master
WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND sql LIKE :content
""")

_RECORD = text("""
INSERT INTO deferred_indexes (projection, index_name, definition)
VALUES (:projection, :index_name, :definition)
ON CONFLICT DO NOTHING
""")


async def defer(conn: AsyncConnection, projection: str, tables: Sequence[Table]) -> None:
    """Set aside the indexes of `tables` that `projection`'s rebuild builds when it ends;
    before the rebuild's reset empties them, so the rows go without touching them. Those
    of a rebuild reset again before it ended are already set aside, and still recorded."""
    if conn.dialect.name == "postgresql":
        names = [table.name for table in tables]
        indexes = (await conn.execute(_SECONDARY_INDEXES, {"tables": names})).all()
        for name, definition in indexes:
            await _record(conn, projection, name, definition)
            await conn.execute(text(f'DROP INDEX "{name}"'))
        return
    for table in tables:
        content = {"content": f"%content='{table.name}'%"}
        for name, definition in (await conn.execute(_SQLITE_CONTENT_INDEXES, content)).all():
            await _record(conn, projection, name, definition)
            # emptied now, as the table is about to be: rebuilt from it at the end
            await conn.execute(text(f'INSERT INTO "{name}"("{name}") VALUES (\'delete-all\')'))


async def _record(conn: AsyncConnection, projection: str, name: str, definition: str) -> None:
    parameters = {"projection": projection, "index_name": name, "definition": definition}
    await conn.execute(_RECORD, parameters)
