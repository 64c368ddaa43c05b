"""SQLAlchemy metadata of the event log; Alembic migrations create these tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite (which stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_column_type() -> Any:
    return JSON().with_variant(JSONB(), "postgresql")


# On PostgreSQL, position is derived from the appending transaction's id (see store.py);
# on SQLite it is the rowid, assigned in commit order because SQLite has one writer.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("stream_id", String(255), nullable=False),
    Column("stream_type", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("data", json_column_type(), nullable=False),
    Column("metadata", json_column_type(), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    # the (stream_id, version) key is the concurrency check: two writers of one
    # stream cannot both take the next version
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

handled_commands = Table(
    "handled_commands",
    metadata,
    Column("command_id", Uuid, primary_key=True),
    # a hash of what the command asked for, so a reused id with another payload is refused
    Column("fingerprint", String(64), nullable=False),
    Column("stream_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("handled_at", UtcDateTime, nullable=False),
)
