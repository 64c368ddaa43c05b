"""GET /health: 200 when the database answers and no projection has FAILED, else 503."""

from __future__ import annotations

import logging

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from readmodels import GetProjectionStatuses, ProjectionState
from schema.services import Services

log = logging.getLogger(__name__)


async def health(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        async with services.database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        statuses = (await services.queries.ask(GetProjectionStatuses())).value
    except Exception:
        log.exception("health check: the database does not answer")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if (failure := services.database.store.write_failure) is not None:
        log.error("health check: appends fail: %s", failure)
        return JSONResponse({"status": "unavailable", "database": "unwritable"}, status_code=503)
    failed = [s.name for s in statuses if s.state is ProjectionState.FAILED]
    body = {
        "status": "degraded" if failed else "ok",
        "database": "ok",
        # "open": nothing configured on the embedded default, which warned at start
        "authentication": services.authentication.mode,
        "projections": {s.name: {"state": s.state.value, "lag": s.lag} for s in statuses},
    }
    return JSONResponse(body, status_code=503 if failed else 200)
