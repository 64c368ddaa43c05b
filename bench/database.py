"""Scratch PostgreSQL databases for the benchmarks: created with a random name, dropped after."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def default_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(scheme="postgresql", path=f"/{name}"))


def sqlalchemy_url(asyncpg_url: str) -> str:
    return asyncpg_url.replace("postgresql://", "postgresql+asyncpg://", 1)


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    """A new database with a random name, dropped afterwards; yields its asyncpg URL."""
    name = f"cqrs_orders_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(admin_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def server_version(admin_url: str) -> str:
    connection = await asyncpg.connect(admin_url)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
