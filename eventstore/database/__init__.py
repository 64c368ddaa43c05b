"""The database toolkit every package of the service uses: engines, the UTC time type,
LISTEN, task helpers."""

from eventstore.database.engine import (
    DatabaseUnavailable,
    connect_engine,
    create_engine,
    driver_dsn,
    parse_url,
)
from eventstore.database.listener import PgListener
from eventstore.database.statement_connections import StatementConnections
from eventstore.database.tasks import cancel_and_wait
from eventstore.database.types import UtcDateTime

__all__ = [
    "DatabaseUnavailable",
    "PgListener",
    "StatementConnections",
    "UtcDateTime",
    "cancel_and_wait",
    "connect_engine",
    "create_engine",
    "driver_dsn",
    "parse_url",
]
