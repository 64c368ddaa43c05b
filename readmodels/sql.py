"""SQL helpers of the read models: metadata, batched reads and upserts, exact cents."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeDecorator

from eventstore.database import UtcDateTime
from readmodels.held_rows import Upsert, held

# Alembic (migrations/versions/0002_read_models.py) creates these tables; this metadata
# only describes them to queries and projections.
metadata = MetaData()

Row = dict[str, Any]
Update = Callable[[Any], Mapping[str, ColumnElement[Any]]]


class EncodedJson(TypeDecorator[Any]):
    """A JSON document that a projection hands over as its JSON text and a query reads
    back parsed. The projection encodes it with msgspec straight from its dataclasses:
    building dicts for json.dumps cost five times as much, a share of a rebuild's time."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None  # the text goes as it is


def cents(amount: Decimal) -> int:
    """Exact integer cents of an amount, refusing anything finer than a cent."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount {amount} has more than 2 decimal places")
    return int(scaled)


def money(amount_cents: int) -> Decimal:
    return Decimal(amount_cents).scaleb(-2)


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT of the connection's dialect, the one with ON CONFLICT clauses."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table)


async def rows_by_key(
    conn: AsyncConnection, table: Table, key: Column[Any], values: Sequence[Any]
) -> list[Mapping[str, Any]]:
    """The rows whose `key` is among `values`, as mappings of column name to value."""
    if not values:
        return []
    if conn.dialect.name != "postgresql":
        result = await conn.execute(table.select().where(key.in_(values)))
        return [dict(row._mapping) for row in result]
    # through the driver on the transaction's own connection: SQLAlchemy's typed rows
    # cost more client time than the projection's fold (SQLAlchemy's codecs on the
    # driver connection still decode JSON, and asyncpg gives aware UTC times)
    statement = f"SELECT * FROM {table.name} WHERE {key.name} = ANY($1::{_pg_type(key)}[])"
    batch = held(conn)
    if batch is None:
        return list(await (await driver_of(conn)).fetch(statement, values))
    found, missing = batch.cache.lookup(table, key, values)
    if missing:
        # outside any transaction: the batch's one statement checks the checkpoint
        found.extend(await (await driver_of(conn, begin=False)).fetch(statement, missing))
    return found


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Row],
    key: Sequence[str],
    update: Update | None = None,
) -> None:
    """Insert rows, or update the row with the same key: every column from the new row,
    or what `update(excluded)` says (its expressions may read `table` and `excluded`).
    No two rows may have the same key."""
    if not rows:
        return
    batch = held(conn)
    if batch is not None:
        batch.upserts.append(Upsert(table, rows, tuple(key), update))
        return
    if conn.dialect.name == "postgresql":
        statement, arguments = pg_upsert(conn.dialect, Upsert(table, rows, tuple(key), update))
        await (await driver_of(conn)).execute(statement, *arguments)
        return
    # one executemany of the driver's SQL: one hop to the writer's thread for the whole
    # batch, and no SQLAlchemy parameters to build per row (a rebuild's main SQLite cost
    # after its fold, as in insert_new)
    statement, names = _sqlite_upsert(table, frozenset(rows[0]), tuple(key), update)
    values = ([row[name] for name in names] for row in rows)
    records = _driver_records(conn.dialect, table, names, values)
    await conn.exec_driver_sql(statement, records)


_SQLITE = sqlite.dialect()


@functools.cache
def _sqlite_upsert(
    table: Table,
    names: frozenset[str],
    key: tuple[str, ...],
    update: Update | None,
) -> tuple[str, tuple[str, ...]]:
    """Built once per table, columns, key and update: building it anew for each batch
    cost about 2 ms of CPU per command applied by both projections, a share of the 5 ms
    that bounds SQLite's lag at 200 commands/s (docs/benchmarks.md). With the statement,
    the columns whose values are its parameters, in their order."""
    statement = sqlite.insert(table).values({name: bindparam(name) for name in names})
    new = statement.excluded
    set_ = update(new) if update else {name: new[name] for name in names if name not in key}
    compiled = statement.on_conflict_do_update(index_elements=key, set_=set_).compile(
        dialect=_SQLITE
    )
    assert compiled.positiontup is not None
    return str(compiled), tuple(compiled.positiontup)


def _driver_records(
    dialect: Dialect, table: Table, names: tuple[str, ...], rows: Iterable[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """Rows of the values of `names`, as the driver takes them (_insert_converters)."""
    converters = _insert_converters(dialect, table, names)
    records = []
    for row in rows:
        record = list(row)
        for index, convert in converters:
            record[index] = convert(record[index])
        records.append(tuple(record))
    return records


# rows per INSERT of insert_new on SQLite: 22,000 values for order_views, under the
# 32,766 a statement may bind (SQLite's default since 3.32)
ROWS_PER_INSERT = 1000


async def insert_new(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows that are not in the table yet (a rebuild's), each the values of
    `columns`: no conflict to resolve, so PostgreSQL takes them by COPY. SQLite takes
    them a thousand rows a statement, as the driver's SQL: SQLAlchemy's building of each
    row's parameters cost more than SQLite's inserts, and a statement per row (an
    executemany) more again on a table with triggers, each statement's savepoint making
    the full-text index flush (migration 0008). A row already there fails the insert."""
    if not rows:
        return
    records = _driver_records(conn.dialect, table, tuple(columns), rows)
    if conn.dialect.name == "postgresql":
        driver = await driver_of(conn)
        await driver.copy_records_to_table(table.name, records=records, columns=list(columns))
        return
    names = ", ".join(f'"{name}"' for name in columns)
    values = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(records), ROWS_PER_INSERT):
        chunk = records[start : start + ROWS_PER_INSERT]
        statement = f'INSERT INTO "{table.name}" ({names}) VALUES ' + ", ".join(
            [values] * len(chunk)
        )
        await conn.exec_driver_sql(statement, tuple(value for record in chunk for value in record))


_converters: dict[tuple[str, Table, tuple[str, ...]], list[tuple[int, Callable[[Any], Any]]]] = {}


def _insert_converters(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> list[tuple[int, Callable[[Any], Any]]]:
    """What turns the value at each index into the driver's, as SQLAlchemy would: on
    SQLite its bind processors (the stored text of a time or a UUID is theirs, whichever
    path wrote the row); none on PostgreSQL, where asyncpg takes the values as they are."""
    cached = (dialect.name, table, columns)
    if cached not in _converters:
        converters: list[tuple[int, Callable[[Any], Any]]] = []
        if dialect.name != "postgresql":
            for index, name in enumerate(columns):
                kind = table.c[name].type
                convert = kind.dialect_impl(dialect).bind_processor(dialect)
                if convert is not None:
                    converters.append((index, convert))
        _converters[cached] = converters
    return _converters[cached]


def pg_upsert(
    dialect: Dialect, upsert: Upsert, first: int = 1, gate: str = ""
) -> tuple[str, list[Any]]:
    """One INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT, and its
    arguments: the rows travel as a few binary arrays, and the server plans and runs one
    statement. Its parameters are numbered from `first`; `gate`, a condition, keeps the
    rows out unless it holds (a WHERE of the SELECT)."""
    rows, table = upsert.rows, upsert.table
    names = tuple(rows[0])
    statement = _pg_upsert_sql(dialect, table, names, upsert.key, upsert.update, first, gate)
    return statement, [[row[name] for row in rows] for name in names]


_pg_statements: dict[
    tuple[str, tuple[str, ...], tuple[str, ...], Update | None, int, str], str
] = {}


def _pg_upsert_sql(
    dialect: Dialect,
    table: Table,
    names: tuple[str, ...],
    key: tuple[str, ...],
    update: Update | None,
    first: int,
    gate: str,
) -> str:
    cached = (table.name, names, key, update, first, gate)
    if cached not in _pg_statements:
        if update is None:
            assignments = [f"{name} = EXCLUDED.{name}" for name in names if name not in key]
        else:
            excluded = postgresql.insert(table).excluded
            assignments = [
                f"{name} = {expression.compile(dialect=dialect)}"
                for name, expression in update(excluded).items()
            ]
        parameters = ", ".join(
            f"${n}::{_pg_array_type(table.c[name])}" for n, name in enumerate(names, start=first)
        )
        selected = ", ".join(
            f"u.{name}::json" if isinstance(table.c[name].type, EncodedJson) else f"u.{name}"
            for name in names
        )
        where = f" WHERE {gate}" if gate else ""
        _pg_statements[cached] = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"SELECT {selected} FROM unnest({parameters}) AS u({', '.join(names)}){where} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(assignments)}"
        )
    return _pg_statements[cached]


def _pg_type(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, Uuid):
        return "uuid"
    if isinstance(kind, UtcDateTime):
        return "timestamptz"
    if isinstance(kind, BigInteger):
        return "bigint"
    if isinstance(kind, Integer):
        return "integer"
    if isinstance(kind, String | Text):
        return "text"
    raise TypeError(f"no PostgreSQL array type for {column}")


def _pg_array_type(column: Column[Any]) -> str:
    # JSON travels as its text and is cast in the statement
    return "text[]" if isinstance(column.type, EncodedJson) else f"{_pg_type(column)}[]"


async def driver_of(conn: AsyncConnection, begin: bool = True) -> Any:
    """The asyncpg connection under `conn`, in its transaction (begun here unless `begin`
    is False: then a statement outside one commits on its own)."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None, "a checked-out connection has its driver's"
    if begin and not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement only: a
        # statement sent past it before then would commit on its own. Its own way of
        # beginning saves the round trip of a statement sent only to begin.
        adapter: Any = raw.dbapi_connection
        await adapter._start_transaction()
    return driver
