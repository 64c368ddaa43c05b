"""The event log: the single source of truth of cqrs-orders, on PostgreSQL or SQLite."""

from eventstore.codec import EventCodec, UnknownEventType, UtcDateTime
from eventstore.database import DatabaseUnavailable, connect_engine, create_engine
from eventstore.notify import PositionSignal
from eventstore.records import (
    AppendResult,
    CommandFingerprintMismatch,
    ConcurrencyError,
    LoggedEvent,
    NewEvent,
    RecordedEvent,
)
from eventstore.store import EventStore
from eventstore.tables import metadata

__all__ = [
    "AppendResult",
    "CommandFingerprintMismatch",
    "ConcurrencyError",
    "DatabaseUnavailable",
    "EventCodec",
    "EventStore",
    "LoggedEvent",
    "NewEvent",
    "PositionSignal",
    "RecordedEvent",
    "UnknownEventType",
    "UtcDateTime",
    "connect_engine",
    "create_engine",
    "metadata",
]
