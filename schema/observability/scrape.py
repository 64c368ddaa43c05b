"""One scrape of /metrics: this process's (or, under `serve --workers N`, every worker's)
metrics, and the log's readings taken from the database for this scrape."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from readmodels import ProjectionState
from schema.observability import multiprocess
from schema.observability.log_readings import LogReadings, ReadingSources
from schema.observability.metrics import process_metrics

log = logging.getLogger(__name__)


class ReadingsCollector(Collector):
    """The gauges of one set of readings (none when the database did not answer: an absent
    series says "unknown", a zero would say "caught up")."""

    def __init__(self, readings: LogReadings | None) -> None:
        self._readings = readings

    def collect(self) -> Iterable[Metric]:
        readings = self._readings
        if readings is None:
            return []
        head = GaugeMetricFamily(
            "cqrs_event_log_head_position", "Position of the last event projections can read"
        )
        head.add_metric([], readings.head)
        position = GaugeMetricFamily(
            "cqrs_projection_position",
            "Position of the last event a projection applied",
            labels=["projection"],
        )
        lag = GaugeMetricFamily(
            "cqrs_projection_lag_seconds",
            "Age of the oldest event a projection has not applied; 0 when caught up",
            labels=["projection"],
        )
        state = GaugeMetricFamily(
            "cqrs_projection_state",
            "1 for the projection's current state, 0 for the others",
            labels=["projection", "state"],
        )
        for reading in readings.projections:
            position.add_metric([reading.name], reading.position)
            lag.add_metric([reading.name], reading.lag_seconds)
            for each in ProjectionState:
                state.add_metric([reading.name, each.value], 1 if each is reading.state else 0)
        return [head, position, lag, state]


class _Scrape(Collector):
    def __init__(self, *parts: Collector) -> None:
        self._parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self._parts:
            yield from part.collect()


async def exposition(sources: ReadingSources) -> bytes:
    """The text exposition of one scrape."""
    try:
        readings: LogReadings | None = await sources.read()
    except Exception:
        log.exception("metrics: the database did not answer; projection gauges left out")
        readings = None
    own: Collector
    if multiprocess.enabled():
        multiprocess.forget_dead_workers()
        own = CollectorRegistry()
        MultiProcessCollector(own)  # type: ignore[no-untyped-call]
    else:
        own = process_metrics().registry
    return generate_latest(_Scrape(own, ReadingsCollector(readings)))
