"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'orders.db'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(database_url=os.environ.get("DATABASE_URL") or default_database_url())
