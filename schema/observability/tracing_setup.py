"""OpenTelemetry for the process (the `otel` extra): the tracer provider and its exporters
as the OTEL_* variables say, and the database instrumentations. Imported only when traces
are asked for.

A provider someone else installed first (`opentelemetry-instrument`, a test's in-memory
exporter) is used as it is, and left to its owner to shut down.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.invalid_setting import InvalidSetting


@dataclass(slots=True)
class TracingSetup:
    provider: TracerProvider
    owned: bool  # installed here, so shut down (flushed) here
    instrumented_engines: bool = False

    @classmethod
    def install(cls) -> TracingSetup:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            setup = cls(current, owned=False)
        else:
            provider = TracerProvider(resource=_resource())
            for exporter in _exporters():
                provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            setup = cls(provider, owned=True)
        # the append and one-statement queries run on bare asyncpg connections
        instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        instrumentor.instrument(tracer_provider=setup.provider)
        return setup

    def instrument(self, engines: Sequence[AsyncEngine]) -> None:
        """Database spans for every statement of these engines' pools."""
        SQLAlchemyInstrumentor().instrument(
            engines=[engine.sync_engine for engine in engines],
            tracer_provider=self.provider,
            # its declared range stops below SQLAlchemy 2.1, whose engine events (all it
            # uses) are 2.0's; tests/observability/test_traces.py checks its spans
            skip_dep_check=True,
        )
        self.instrumented_engines = True

    def shutdown(self) -> None:
        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        if self.instrumented_engines:
            SQLAlchemyInstrumentor().uninstrument()
        if self.owned:
            self.provider.shutdown()
        else:
            self.provider.force_flush()


def _resource() -> Resource:
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "cqrs-orders"}))
    return resource


def _exporters() -> list[SpanExporter]:
    named = [
        name.strip().lower()
        for name in (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")
        if name.strip()
    ]
    exporters: list[SpanExporter] = []
    for name in named:
        if name == "otlp":
            # OTLP over HTTP/protobuf; it reads OTEL_EXPORTER_OTLP_* itself
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name != "none":
            raise InvalidSetting(
                f"OTEL_TRACES_EXPORTER must be otlp, console or none, not {name!r}"
            )
    return exporters
