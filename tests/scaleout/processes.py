"""Projection worker processes (tests.scaleout.worker) whose log a test can wait on."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.schema.service import AUTH_SETTINGS, STOP_TIMEOUT, excerpt

ROOT = Path(__file__).resolve().parents[2]
_SETTINGS = ("DATABASE_URL", "PROJECTIONS", "READ_DATABASE_URL", *AUTH_SETTINGS)


class Worker:
    """A running worker: its pid, and every line it has logged so far."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.lines: list[str] = []
        self._logged = asyncio.Condition()
        self._reader = asyncio.create_task(self._read(), name=f"{name}-log")
        self.killed = False

    @property
    def pid(self) -> int:
        return self.process.pid

    async def logged(self, pattern: str, within: float, after: int = 0) -> int:
        """The index of the first line from `after` on that matches `pattern`, waiting for
        it for `within` seconds."""
        wanted = re.compile(pattern)
        async with asyncio.timeout(within), self._logged:
            while True:
                for index in range(after, len(self.lines)):
                    if wanted.search(self.lines[index]):
                        return index
                after = len(self.lines)
                if self._reader.done():
                    pytest.fail(f"{self.name} ended without logging {pattern!r}:\n{self.log}")
                await self._logged.wait()

    def holds(self, projection: str) -> bool:
        """Whether the last word of this worker on `projection` is that it runs it."""
        for line in reversed(self.lines):
            if f"projection {projection}" in line:
                return f"running projection {projection}" in line
        return False

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.killed = True

    @property
    def log(self) -> str:
        return excerpt(self.lines)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self._logged:
                self.lines.append(raw.decode(errors="replace"))
                self._logged.notify_all()
        async with self._logged:
            self._logged.notify_all()

    async def stop(self) -> None:
        """SIGTERM, then the worker must exit 0 without a traceback (unless it was killed)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                code = await self.process.wait()
                await self._reader
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        if not self.killed:
            assert code == 0, f"{self.name} exited with {code}:\n{self.log}"
            assert "Traceback" not in "".join(self.lines), f"{self.name}:\n{self.log}"


@contextlib.asynccontextmanager
async def workers(database_url: str, count: int) -> AsyncIterator[list[Worker]]:
    """`count` workers running the default projections and the counting one, each logging
    when it starts to run a projection; stopped (or reaped, if killed) after the block."""
    environment = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    # scale-out is tested without authentication, said explicitly as PostgreSQL requires
    environment |= {"DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "AUTH": "off"}
    started: list[Worker] = []
    try:
        for number in range(1, count + 1):
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "tests.scaleout.worker"),
                cwd=ROOT,
                env=environment,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            started.append(Worker(f"worker-{number}", process))
        for worker in started:
            await worker.logged("projection worker up", STOP_TIMEOUT)
        yield started
    finally:
        for worker in started:
            await worker.stop()
