"""The traces' tests: one SDK tracer provider for the test process, exporting to memory.

OpenTelemetry lets a process set its global provider once; the app uses the one it finds
(schema/observability/tracing_setup.py), so every test of traces reads this exporter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="session")
def provider() -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        return current
    installed = TracerProvider()
    installed.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(installed)
    return installed


@pytest.fixture
def spans(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    """The spans ended during the test (and only those)."""
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()
