"""The service's signals for the people who run it: Prometheus metrics, OpenTelemetry traces
(the `otel` extra), JSON logs with request ids, and readiness.

`Observability` is the face: the app (schema/app.py) and `cqrs-orders project` build one
from the settings, and it hands each part of the service its observer, or None when there
is nothing to observe (the hot paths then pay one `is None` test).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute
from strawberry.extensions import SchemaExtension

from eventstore import EventStore
from handlers.observation import AppendTracing, CommandObserver
from readmodels import ProjectionObserver
from schema.observability.command_signals import CommandSignals
from schema.observability.endpoints import SignalEndpoints
from schema.observability.log_readings import ReadingSources
from schema.observability.metrics import Metrics, process_metrics
from schema.observability.multiprocess import forget_this_process
from schema.observability.operation_signals import OperationSignals
from schema.observability.projection_signals import ProjectionSignals
from schema.observability.request_signals import RequestSignals
from schema.observability.settings import LogFormat, ObservabilitySettings

if TYPE_CHECKING:
    from schema.bootstrap import Database
    from schema.observability.tracing import Tracing

log = logging.getLogger(__name__)

TRACING_MISSING = (
    "OTEL_* settings ask for traces, but the otel extra is not installed "
    "(pip install 'cqrs-orders[otel]'): serving without traces"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Observers:
    """What the write and read sides are given to observe with (None: nothing)."""

    commands: CommandObserver | None = None
    appends: AppendTracing | None = None
    projections: ProjectionObserver | None = None


class Observability:
    def __init__(self, settings: ObservabilitySettings) -> None:
        self.settings = settings
        self.metrics: Metrics | None = process_metrics() if settings.metrics else None
        self.log_fields = settings.log_format is LogFormat.JSON
        # set by `start` when traces are asked for and the extra is installed
        self.tracing: Tracing | None = None

    async def start(self) -> None:
        if not self.settings.tracing:
            return
        try:
            from schema.observability.tracing import Tracing
            from schema.observability.tracing_setup import TracingSetup
        except ImportError:
            log.warning(TRACING_MISSING)
            return
        self.tracing = Tracing(TracingSetup.install())

    def instrument(self, database: Database) -> None:
        """Database spans for the statements of the database's engines (their pools)."""
        if self.tracing is not None:
            engines = [database.engine, *filter(None, [database.read_engine])]
            self.tracing.setup.instrument(engines)

    async def stop(self) -> None:
        forget_this_process()
        if self.tracing is not None:
            self.tracing.shutdown()
            self.tracing = None

    def observers(self, store: EventStore) -> Observers:
        """For the command bus and handler, and the projection runner, over `store`."""
        metrics, tracing = self.metrics, self.tracing
        if metrics is None and tracing is None and not self.log_fields:
            return Observers()
        return Observers(
            commands=CommandSignals(metrics, tracing, self.log_fields),
            appends=tracing,
            projections=ProjectionSignals(store, metrics, tracing),
        )

    def schema_extensions(self) -> list[Callable[[], SchemaExtension]]:
        if self.metrics is None and not self.settings.tracing and not self.log_fields:
            return []
        return [functools.partial(OperationSignals, self)]

    def middleware(self) -> Middleware:
        websockets = None if self.metrics is None else self.metrics.websockets
        return Middleware(RequestSignals, access=self.settings.access_log, websockets=websockets)

    def routes(self, sources: Callable[[Request], ReadingSources]) -> list[BaseRoute]:
        """/metrics (unless METRICS=off), /health/live and /health/ready."""
        endpoints = SignalEndpoints(
            sources=sources,
            ready_max_lag_seconds=self.settings.ready_max_lag_seconds,
            metrics=self.metrics is not None,
        )
        return endpoints.routes()


__all__ = ["Observability", "ObservabilitySettings", "Observers", "ReadingSources"]
