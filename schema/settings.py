"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
    raise ValueError(f"{name} must be on or off, not {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str
    # production deployments usually switch both off: the schema is then only what clients know
    introspection: bool = True
    graphiql: bool = True
    # whether this process runs the projections (off for API-only replicas)
    projections: bool = True

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_database_url(),
            introspection=_flag("GRAPHQL_INTROSPECTION", True),
            graphiql=_flag("GRAPHIQL", True),
            projections=_flag("PROJECTIONS", True),
        )
