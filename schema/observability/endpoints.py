"""GET /metrics, /health/live and /health/ready, for the API and for `project --metrics-port`.

/health/live says only that the process answers. /health/ready says whether this process
should get traffic: the database answers, no projection is FAILED, and none has left an
event unapplied for READY_MAX_LAG_SECONDS or more. (/health, schema/health.py, keeps its
own meaning.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from readmodels import ProjectionState
from schema.observability.log_readings import ReadingSources
from schema.observability.scrape import exposition

log = logging.getLogger(__name__)

# the classic text format, which every Prometheus version reads (generate_latest writes it)
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class SignalEndpoints:
    # the request's app knows where its readings come from (schema/app.py, metrics_server.py)
    sources: Callable[[Request], ReadingSources]
    ready_max_lag_seconds: float
    metrics: bool

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/health/live", live, methods=["GET"]),
            Route("/health/ready", self.ready, methods=["GET"]),
        ]
        if self.metrics:
            routes.append(Route("/metrics", self.scrape, methods=["GET"]))
        return routes

    async def scrape(self, request: Request) -> Response:
        return Response(await exposition(self.sources(request)), media_type=TEXT_FORMAT)

    async def ready(self, request: Request) -> JSONResponse:
        try:
            readings = await self.sources(request).read()
        except Exception:
            log.exception("readiness: the database does not answer")
            return JSONResponse({"status": "unready", "database": "unreachable"}, 503)
        reasons = [
            f"{r.name} is FAILED" if r.state is ProjectionState.FAILED else f"{r.name} lags"
            for r in readings.projections
            if r.state is ProjectionState.FAILED or r.lag_seconds >= self.ready_max_lag_seconds
        ]
        body: dict[str, object] = {
            "status": "unready" if reasons else "ready",
            "database": "ok",
            "projections": {
                r.name: {"state": r.state.value, "lag_seconds": round(r.lag_seconds, 3)}
                for r in readings.projections
            },
            "max_lag_seconds": self.ready_max_lag_seconds,
        }
        if reasons:
            body["reasons"] = reasons
        return JSONResponse(body, status_code=503 if reasons else 200)


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "live"})
