"""SQLAlchemy metadata of the event log; Alembic migrations create these tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from eventstore.database import UtcDateTime

metadata = MetaData()

# On PostgreSQL, position is derived from the appending transaction's id (see postgres.py);
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
    # json, not jsonb, on PostgreSQL: the text as appended, which the log's reads hand to
    # the codec as it is (migration 0009)
    Column("data", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
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
