"""API processes without projections (`serve --projections off`), and clients of them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tests.schema.service import Api, Server, excerpt, http_api, serving


@contextlib.asynccontextmanager
async def api_processes(
    database_url: str, directory: Path, count: int
) -> AsyncIterator[list[tuple[Server, Api]]]:
    """`count` API processes on ports of their own, each with an HTTP client."""
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            server = stack.enter_context(
                serving("postgres", database_url, directory, arguments=["--projections", "off"])
            )
            started.append((server, await stack.enter_async_context(http_api(server))))
        try:
            yield started
        except BaseException:
            # pytest shows what a failed test printed: the servers' side of the story
            for number, (server, _) in enumerate(started, 1):
                print(f"--- API process {number} ({server.base_url}):\n{excerpt(server.lines)}")
            raise
