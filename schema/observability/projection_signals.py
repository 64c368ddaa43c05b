"""The projections' signals: each committed batch's events and duration as metrics, its
span (linked to the commands it applied), and the projection's name in the log lines
written meanwhile."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from eventstore import EventStore, LoggedEvent
from schema.observability import log_context
from schema.observability.metrics import Metrics

if TYPE_CHECKING:
    from schema.observability.tracing import Tracing


class ProjectionSignals:
    """The projection runner's observer (readmodels/running/observation.py)."""

    def __init__(self, store: EventStore, metrics: Metrics | None, tracing: Tracing | None) -> None:
        self._store = store
        self._metrics = metrics
        self._tracing = tracing

    @contextlib.asynccontextmanager
    async def batch(self, projection: str, events: Sequence[LoggedEvent]) -> AsyncIterator[None]:
        with log_context.scope(projection=projection) as fields:
            span = None
            if self._tracing is not None:
                span = await self._tracing.batch(self._store, projection, events)
                fields["trace_id"] = span.trace_id
            started = time.perf_counter()
            try:
                yield
            except BaseException as error:
                if span is not None:
                    span.end(error, failed=True)
                raise
            if self._metrics is not None:
                metrics = self._metrics
                metrics.child(metrics.projection_events, projection).inc(len(events))
                metrics.child(metrics.projection_batch_duration, projection).observe(
                    time.perf_counter() - started
                )
            if span is not None:
                span.end()
