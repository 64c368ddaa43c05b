"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from schema.identity.settings import AuthSettings
from schema.invalid_setting import InvalidSetting
from schema.observability.settings import ObservabilitySettings
from schema.persisted_operations.settings import PersistedMode


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'orders.db'}"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise InvalidSetting(f"{name} must be on or off, not {value!r}")


def _count(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise InvalidSetting(f"{name} must be a whole number of 1 or more, not {value!r}")
    return count


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str
    # queries (and the checkpoints their waits compare against) go here when set: a
    # streaming replica of database_url (docs/deployment.md)
    read_database_url: str | None = None
    # production deployments usually switch both off: the schema is then only what clients know
    introspection: bool = True
    graphiql: bool = True
    # whether this process runs the projections (off for API-only replicas)
    projections: bool = True
    # PostgreSQL connections of one process (docs/deployment.md has the whole budget): the
    # SQLAlchemy pool (and as many again in overflow), and the bare connections of appends
    # and of one-statement queries
    pool_size: int = 10
    append_connections: int = 16
    query_connections: int = 8
    # who may call (schema/identity/); code that builds Settings itself (tests, the bench)
    # says AUTH=off unless it asks for more, while the environment's default is unconfigured
    auth: AuthSettings = field(default_factory=AuthSettings.off)
    # bounds on what one websocket connection, and one principal's connections, may hold
    max_subscriptions_per_connection: int = 100
    max_connections_per_principal: int = 20
    # metrics, log format, readiness, traces (schema/observability/)
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    # which documents run: any, with automatic persisted queries, or registered ones only
    persisted_operations: PersistedMode = PersistedMode.AUTOMATIC

    def pool_options(self, url: str) -> dict[str, int]:
        """The SQLAlchemy pool sizes for an engine of `url` (SQLite keeps its own)."""
        if url.startswith("sqlite"):
            return {}
        return {"pool_size": self.pool_size, "max_overflow": self.pool_size}

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_database_url(),
            read_database_url=os.environ.get("READ_DATABASE_URL") or None,
            introspection=_flag("GRAPHQL_INTROSPECTION", True),
            graphiql=_flag("GRAPHIQL", True),
            projections=_flag("PROJECTIONS", True),
            pool_size=_count("DATABASE_POOL_SIZE", 10),
            append_connections=_count("APPEND_CONNECTIONS", 16),
            query_connections=_count("QUERY_CONNECTIONS", 8),
            auth=AuthSettings.from_environment(),
            max_subscriptions_per_connection=_count("MAX_SUBSCRIPTIONS_PER_CONNECTION", 100),
            max_connections_per_principal=_count("MAX_CONNECTIONS_PER_PRINCIPAL", 20),
            observability=ObservabilitySettings.from_environment(),
            persisted_operations=PersistedMode.from_environment(),
        )
