"""The service's Prometheus metrics: names, labels and buckets, one set per process.

Label values are bounded sets (command types, outcomes, operation types, projection and
subscription field names, protocols): never an id or a client's text. Under
`serve --workers N` (PROMETHEUS_MULTIPROC_DIR set, see multiprocess.py) every value lives in
a file of its process and a scrape adds them up; gauges count only live processes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from schema.observability import multiprocess

COMMAND_OUTCOMES = (
    "ok",
    "duplicate",
    "bad_user_input",
    "not_found",
    "conflict",
    "invalid_state",
    "forbidden",
    "error",
)
OPERATION_OUTCOMES = ("ok", "client_error", "server_error")
# a command or a small query takes about a millisecond; a batch of 500 events some tens
SECONDS_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


M = TypeVar("M", Counter, Gauge, Histogram)


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """What this process counts itself. The log's and projections' positions, lag and state
    are read from the database at each scrape instead (scrape.py): the same for every
    process, whichever runs the projections."""

    registry: CollectorRegistry
    commands: Counter
    command_duration: Histogram
    command_retries: Counter
    projection_events: Counter
    projection_batch_duration: Histogram
    operations: Counter
    operation_duration: Histogram
    subscriptions: Gauge
    websockets: Gauge
    # labels() validates, locks and looks up on every call: the hot paths keep the children
    _children: dict[tuple[int, tuple[str, ...]], Any] = field(default_factory=dict)

    def child(self, metric: M, *values: str) -> M:
        """`metric.labels(*values)`, remembered."""
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        child: M = found
        return child

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        if not multiprocess.enabled():
            # a multi-process scrape could only show the process answering it
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                registry.register(collector)
        return cls(
            registry=registry,
            commands=Counter(
                "cqrs_commands_total",
                "Commands handled, by type and outcome",
                ["command", "outcome"],
                registry=registry,
            ),
            command_duration=Histogram(
                "cqrs_command_duration_seconds",
                "Time to handle a command, retries included",
                ["command"],
                buckets=SECONDS_BUCKETS,
                registry=registry,
            ),
            command_retries=Counter(
                "cqrs_command_retries_total",
                "Commands run again because their stream moved underneath (no expectedVersion)",
                ["command"],
                registry=registry,
            ),
            projection_events=Counter(
                "cqrs_projection_events_applied_total",
                "Events a projection committed its checkpoint past, in this process",
                ["projection"],
                registry=registry,
            ),
            projection_batch_duration=Histogram(
                "cqrs_projection_batch_duration_seconds",
                "Time to apply and commit one batch of events",
                ["projection"],
                buckets=SECONDS_BUCKETS,
                registry=registry,
            ),
            operations=Counter(
                "graphql_operations_total",
                "GraphQL operations, by type and outcome (a subscription counts when it ends)",
                ["operation_type", "outcome"],
                registry=registry,
            ),
            operation_duration=Histogram(
                "graphql_operation_duration_seconds",
                "Time to answer a query or mutation; a subscription's whole life",
                ["operation_type"],
                buckets=SECONDS_BUCKETS,
                registry=registry,
            ),
            subscriptions=Gauge(
                "graphql_subscriptions_active",
                "Subscriptions streaming now, by root field",
                ["subscription"],
                multiprocess_mode="livesum",
                registry=registry,
            ),
            websockets=Gauge(
                "graphql_websocket_connections_active",
                "Open websocket connections, by subprotocol",
                ["protocol"],
                multiprocess_mode="livesum",
                registry=registry,
            ),
        )


@functools.cache
def process_metrics() -> Metrics:
    """The metrics of this process, created on first use (every app of a process shares
    them, as Prometheus scrapes a process)."""
    # the `_created` series double every counter and histogram in the text format and no
    # query here needs them (Prometheus detects counter resets without them)
    disable_created_metrics()  # type: ignore[no-untyped-call]
    return Metrics.create()
