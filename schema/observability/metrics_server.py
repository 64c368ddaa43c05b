"""`cqrs-orders project --metrics-port`: /metrics, /health/live and /health/ready of a
projection worker, served by uvicorn inside the worker's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request

from schema.observability import Observability
from schema.observability.log_readings import ReadingSources
from schema.observability.request_signals import RequestSignals

START_TIMEOUT = 30.0


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # the worker's own handlers stop it (schema/cli/project.py), and then this server
        yield


@contextlib.asynccontextmanager
async def metrics_server(
    observability: Observability, sources: ReadingSources, host: str, port: int
) -> AsyncIterator[None]:
    """Serve the signals on host:port until the block ends (port 0: any free port, logged
    as uvicorn logs it)."""

    def sources_of(request: Request) -> ReadingSources:
        return sources

    app = Starlette(routes=observability.routes(sources_of))
    app.add_middleware(RequestSignals, access=observability.settings.access_log, websockets=None)
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", log_config=None, access_log=False
    )
    server = _EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(), name="metrics-server")
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if serving.done():
                    serving.result()  # a port in use, say: raise it here
                    raise RuntimeError("the metrics server stopped before it started")
                await asyncio.sleep(0.05)  # uvicorn's Server says `started`, and no more
        yield
    finally:
        server.should_exit = True
        await serving
