"""A PostgreSQL server for the test run: the one configured, the local one, or a throwaway.

Order of preference: $TEST_POSTGRES_URL; a server answering on 127.0.0.1:5432 as
postgres; otherwise a temporary cluster started with initdb/pg_ctl (installing Debian's
postgresql package first if no server binaries exist). Never "skip": if none of these
works the run fails and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    async def probe() -> None:
        connection = await asyncpg.connect(url, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def _server_binaries() -> Path | None:
    for candidate in [
        shutil.which("pg_ctl"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")),
    ]:
        if candidate:
            return Path(candidate).resolve().parent
    return None


def _install_server() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            "no PostgreSQL server answers and none can be installed here: "
            "set TEST_POSTGRES_URL to an admin URL of a PostgreSQL 15+ server"
        )
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binaries() -> Path:
    binaries = _server_binaries()
    if binaries is None:
        _install_server()
        binaries = _server_binaries()
        if binaries is None:
            raise RuntimeError("postgresql was installed but pg_ctl is nowhere to be found")
    return binaries


class _Cluster:
    """Server binaries run as the postgres user when we are root (initdb refuses root)."""

    def __init__(self, root: Path) -> None:
        self.binaries = _binaries()
        self.root = root
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def run(self, program: str, *arguments: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.binaries / program), *arguments],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    @contextlib.contextmanager
    def started(self, data: Path, *settings: str) -> Iterator[str]:
        """Start the cluster in `data` on a free port; yield its admin URL; stop it."""
        port = _free_port()
        options = " ".join(
            [f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", *settings]
        )
        log = str(data) + ".log"
        self.run("pg_ctl", "-D", str(data), "-o", options, "-w", "start", "-l", log)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*self.run_as, str(self.binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                 "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="cqrs-orders-pg-"))
    try:
        cluster = _Cluster(root)
        cluster.run("initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust")
        with cluster.started(root / "data") as url:
            yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def primary_and_replica(apply_delay_ms: int) -> Iterator[tuple[str, str]]:
    """A throwaway primary and a hot-standby streaming replica of it that replays each
    commit `apply_delay_ms` late; yields both admin URLs."""
    root = Path(tempfile.mkdtemp(prefix="cqrs-orders-replica-"))
    try:
        cluster = _Cluster(root)
        # initdb's pg_hba.conf lets local replication connections in with -A trust
        cluster.run("initdb", "-D", str(root / "primary"), "-U", "postgres", "-A", "trust")
        with cluster.started(root / "primary") as primary:
            port = primary.rsplit(":", 1)[1].split("/")[0]
            cluster.run(
                "pg_basebackup", "-D", str(root / "replica"), "-R", "-X", "stream",
                "-h", "127.0.0.1", "-p", port, "-U", "postgres",
            )  # fmt: skip
            delay = f"-c recovery_min_apply_delay={apply_delay_ms}ms -c hot_standby=on"
            with cluster.started(root / "replica", delay) as replica:
                yield primary, replica
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def admin_url() -> Iterator[str]:
    configured = os.environ.get("TEST_POSTGRES_URL")
    if configured:
        if not _answers(configured):
            raise RuntimeError(f"TEST_POSTGRES_URL={configured} does not answer")
        yield configured
    elif _answers(DEFAULT_ADMIN_URL):
        yield DEFAULT_ADMIN_URL
    else:
        with _throwaway_cluster() as url:
            yield url


@contextlib.contextmanager
def scratch_database(admin: str) -> Iterator[str]:
    """A new database for this test run, dropped afterwards; yields its asyncpg URL."""
    name = f"cqrs_orders_test_{uuid.uuid4().hex[:12]}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
