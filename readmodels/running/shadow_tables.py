"""The DDL of a shadow build: its tables beside the live ones, and the switch between them.

A shadow table is created from the code's Table definition (so a new version may add a
column), without secondary indexes: rows go in faster without them, and they are built
once at the end. What the live tables have besides the code's definition (secondary
indexes; on SQLite the row_id key and the triggers that keep the full-text index of
order_views, migration 0002) is read from the catalog, so the migrations stay the one
place that says what they are.

At the switch the live tables are dropped and the shadow ones take their names, in one
transaction: PostgreSQL's DDL is transactional, and SQLite's writer holds the file. On
PostgreSQL the indexes are built on the shadow tables before the switch (under names
ending in the shadow's suffix) and renamed in it; SQLite cannot rename an index, so there
they are created in the switch's transaction, which readers do not wait for (WAL: they
read the last committed state meanwhile).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Integer, MetaData, Table, UniqueConstraint, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

_PG_SECONDARY_INDEXES = text("""
SELECT index_class.relname, pg_get_indexdef(index_class.oid)
FROM pg_index
JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
WHERE pg_index.indrelid = CAST(:table AS regclass) AND NOT pg_index.indisunique
ORDER BY index_class.relname
""")

_PG_INDEXES = text("""
SELECT index_class.relname
FROM pg_index
JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
WHERE pg_index.indrelid = CAST(:table AS regclass)
""")

# what SQLite keeps beside a table: its secondary indexes and its triggers (an automatic
# index of a constraint has no sql)
_SQLITE_COMPANIONS = text("""
SELECT type, name, sql FROM sqlite_master
WHERE tbl_name = :table AND type IN ('index', 'trigger') AND sql IS NOT NULL
ORDER BY type, name
""")

# a full-text index whose content is the table: rebuilt from it after the switch
_SQLITE_CONTENT_INDEXES = text("""
SELECT name FROM sqlite_master
WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND sql LIKE :content
""")


# how many sessions of this database read with a snapshot older than the horizon
_OLDER_SNAPSHOTS = text("""
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
AND backend_xmin IS NOT NULL AND age(backend_xmin) > age(CAST(:horizon AS xid))
AND (wait_event_type, wait_event) IS DISTINCT FROM ('Lock', 'advisory')
""")
_HORIZON = text("SELECT CAST(pg_snapshot_xmax(pg_current_snapshot()) AS xid)")
SNAPSHOT_POLL_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class TablePair:
    live: Table
    shadow: Table


async def create(conn: AsyncConnection, pairs: Sequence[TablePair]) -> None:
    """Create the shadow tables, unless a build before a crash already did."""
    for pair in pairs:
        shadow = pair.shadow
        if conn.dialect.name == "sqlite" and await _has_column(conn, pair.live.name, "row_id"):
            shadow = _with_row_id(shadow)
        await conn.run_sync(_create, shadow)


async def drop(conn: AsyncConnection, tables: Sequence[Table]) -> None:
    for table in tables:
        await conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))


# For the transaction only, and never lowering what an operator configured: the trigram
# index of 40,000 orders builds in 1.5 s with 256 MB instead of 1.8 s with the default
# 64 MB.
_RAISE_INDEX_MEMORY = text("""
SELECT set_config('maintenance_work_mem', '256MB', true)
WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB')
""")


async def index_shadows(conn: AsyncConnection, pairs: Sequence[TablePair], suffix: str) -> None:
    """PostgreSQL: build the live tables' secondary indexes on the shadow tables, named
    with the suffix until the switch; those a build before a crash made are kept."""
    if conn.dialect.name != "postgresql":
        return
    # as the trigger that builds a rebuild's set-aside indexes does (migration 0010)
    await conn.execute(_RAISE_INDEX_MEMORY)
    for pair in pairs:
        existing = {row[0] for row in await conn.execute(_PG_INDEXES, {"table": pair.shadow.name})}
        rows = await conn.execute(_PG_SECONDARY_INDEXES, {"table": pair.live.name})
        for name, definition in rows.all():
            if f"{name}{suffix}" not in existing:
                await conn.execute(text(_pg_retargeted(definition, name, f"{name}{suffix}", pair)))


async def switch(conn: AsyncConnection, pairs: Sequence[TablePair], suffix: str) -> None:
    """Drop the live tables and give the shadow ones their names, indexes included; the
    caller's transaction makes it one step for every reader."""
    if conn.dialect.name == "postgresql":
        await _switch_postgres(conn, pairs, suffix)
    else:
        await _switch_sqlite(conn, pairs)


async def outlive_older_snapshots(conn: AsyncConnection) -> None:
    """PostgreSQL: wait until every snapshot in use was taken after the shadow's last
    commit. A reader that queues behind the switch's lock reads the new tables with the
    snapshot it took before queueing (a repeatable-read session, or a prepared statement
    re-planned): an older one would not see the shadow's last rows. The wait of CREATE
    INDEX CONCURRENTLY, for the same reason. A session waiting for a lease (leases.py)
    reads no table, and may wait for this very build: it does not count."""
    if conn.dialect.name != "postgresql":
        return
    horizon = (await conn.execute(_HORIZON)).scalar_one()
    await conn.commit()  # this session's own snapshot must not count
    while (await conn.execute(_OLDER_SNAPSHOTS, {"horizon": horizon})).scalar_one():
        await conn.commit()
        await asyncio.sleep(SNAPSHOT_POLL_SECONDS)
    await conn.commit()


async def lock_live(conn: AsyncConnection, pairs: Sequence[TablePair]) -> None:
    """PostgreSQL: take the live tables before the checkpoint row, in the order a batch of
    the live runner takes them (rows first, checkpoint last), so the two cannot deadlock;
    a reader waits for the switch, then reads the new table."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{pair.live.name}"' for pair in pairs)
        await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))


async def _switch_postgres(conn: AsyncConnection, pairs: Sequence[TablePair], suffix: str) -> None:
    for pair in pairs:
        shadow_indexes = [
            row[0] for row in await conn.execute(_PG_INDEXES, {"table": pair.shadow.name})
        ]
        await conn.execute(text(f'DROP TABLE "{pair.live.name}"'))
        await conn.execute(text(f'ALTER TABLE "{pair.shadow.name}" RENAME TO "{pair.live.name}"'))
        for index in shadow_indexes:
            # the primary key's index is named after its table, the others after the live ones
            renamed = (
                index.replace(pair.shadow.name, pair.live.name, 1)
                if index.startswith(pair.shadow.name)
                else index.removesuffix(suffix)
            )
            if renamed != index:
                await conn.execute(text(f'ALTER INDEX "{index}" RENAME TO "{renamed}"'))


async def _switch_sqlite(conn: AsyncConnection, pairs: Sequence[TablePair]) -> None:
    for pair in pairs:
        companions = (await conn.execute(_SQLITE_COMPANIONS, {"table": pair.live.name})).all()
        content_indexes = [
            row[0]
            for row in await conn.execute(
                _SQLITE_CONTENT_INDEXES, {"content": f"%content='{pair.live.name}'%"}
            )
        ]
        await conn.execute(text(f'DROP TABLE "{pair.live.name}"'))
        await conn.execute(text(f'ALTER TABLE "{pair.shadow.name}" RENAME TO "{pair.live.name}"'))
        for _kind, _name, sql in companions:  # indexes before triggers
            await conn.execute(text(sql))
        for index in content_indexes:
            await conn.execute(text(f'INSERT INTO "{index}"("{index}") VALUES (\'rebuild\')'))


def _create(sync: Connection, table: Table) -> None:
    table.create(sync, checkfirst=True)


def _pg_retargeted(definition: str, name: str, new_name: str, pair: TablePair) -> str:
    """pg_get_indexdef's `CREATE INDEX name ON public.table USING ...`, for the shadow."""
    definition = re.sub(
        rf"^(CREATE (?:UNIQUE )?INDEX) {re.escape(name)} ", rf"\1 {new_name} ", definition
    )
    return re.sub(
        rf" ON (?:\w+\.)?{re.escape(pair.live.name)} ",
        f' ON "{pair.shadow.name}" ',
        definition,
        count=1,
    )


async def _has_column(conn: AsyncConnection, table: str, column: str) -> bool:
    rows = await conn.execute(text(f'PRAGMA table_info("{table}")'))
    return any(row[1] == column for row in rows)


def _with_row_id(table: Table) -> Table:
    """The table with an INTEGER PRIMARY KEY row_id, its own key kept unique: what the
    live order_views has on SQLite for its full-text index (VACUUM keeps row_id)."""
    key = [column.name for column in table.primary_key]
    columns = [
        Column(column.name, column.type, nullable=column.nullable and column.name not in key)
        for column in table.columns
    ]
    return Table(
        table.name,
        MetaData(),
        Column("row_id", Integer, primary_key=True),
        *columns,
        UniqueConstraint(*key),
    )
