"""docs/monitoring/: the alert rules load as Prometheus rule groups and the Grafana dashboard
as JSON, and both name only series and labels that the service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from readmodels import ProjectionState
from schema.observability.log_readings import LogReadings, ProjectionReading
from schema.observability.metrics import Metrics
from schema.observability.scrape import ReadingsCollector

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring"
# a metric's name followed by its selector, range or grouping; PromQL's own words are not
_SERIES = re.compile(r"\b((?:cqrs|graphql)_[a-z_]+)\s*(\{[^}]*\})?")
_MATCHER = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
_SUFFIXES = ("_bucket", "_count", "_sum")
_DURATION = re.compile(r"\d+[smhd]")


def exported() -> dict[str, set[str]]:
    """Every series the service exports, with its labels (each metric touched once)."""
    metrics = Metrics.create()
    metrics.child(metrics.commands, "CreateOrder", "ok").inc()
    metrics.child(metrics.command_duration, "CreateOrder").observe(0.01)
    metrics.child(metrics.command_retries, "CreateOrder").inc()
    metrics.child(metrics.projection_events, "order_views").inc()
    metrics.child(metrics.projection_batch_duration, "order_views").observe(0.01)
    metrics.child(metrics.operations, "query", "ok").inc()
    metrics.child(metrics.operation_duration, "query").observe(0.01)
    metrics.child(metrics.subscriptions, "consistency").inc()
    metrics.child(metrics.websockets, "graphql-ws").inc()
    reading = ProjectionReading(
        name="order_views", position=1, state=ProjectionState.RUNNING, lag_seconds=0.0
    )
    readings = ReadingsCollector(LogReadings(head=1, projections=(reading,)))
    series: dict[str, set[str]] = {}
    for family in [*metrics.registry.collect(), *readings.collect()]:
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


EXPORTED = exported()


def check_expression(expr: str) -> None:
    named = _SERIES.findall(expr)
    assert named, f"no series of the service in {expr!r}"
    labels: set[str] = set()
    for name, selector in named:
        assert name in EXPORTED, f"{name} is not exported (in {expr!r})"
        used = set(_MATCHER.findall(selector))
        assert used <= EXPORTED[name], f"{name} has no label {used - EXPORTED[name]}"
        labels |= EXPORTED[name]
    for grouping in _BY.findall(expr):
        grouped = {label.strip() for label in grouping.split(",") if label.strip()}
        assert grouped <= labels, f"grouped by unknown labels {grouped - labels} in {expr!r}"


def test_the_issues_metrics_are_exported_with_their_labels() -> None:
    assert {name: EXPORTED[name] for name in EXPECTED} == EXPECTED


EXPECTED = {
    "cqrs_commands_total": {"command", "outcome"},
    "cqrs_command_duration_seconds_bucket": {"command", "le"},
    "cqrs_command_retries_total": {"command"},
    "cqrs_event_log_head_position": set(),
    "cqrs_projection_position": {"projection"},
    "cqrs_projection_lag_seconds": {"projection"},
    "cqrs_projection_events_applied_total": {"projection"},
    "cqrs_projection_batch_duration_seconds_bucket": {"projection", "le"},
    "cqrs_projection_state": {"projection", "state"},
    "graphql_operations_total": {"operation_type", "outcome"},
    "graphql_operation_duration_seconds_bucket": {"operation_type", "le"},
    "graphql_subscriptions_active": {"subscription"},
    "graphql_websocket_connections_active": {"protocol"},
}


def test_the_alert_rules_load_and_name_only_exported_series() -> None:
    document = yaml.safe_load((DOCS / "alerts.yaml").read_text())
    rules: list[dict[str, Any]] = [rule for group in document["groups"] for rule in group["rules"]]
    assert all(set(group) == {"name", "rules"} for group in document["groups"])
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert _DURATION.fullmatch(rule["for"]), rule
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
        check_expression(rule["expr"])
    expressions = " ".join(rule["expr"] for rule in rules)
    # the ones the issue asks for: a FAILED projection, lag held for minutes, the error rate
    assert 'cqrs_projection_state{state="FAILED"}' in expressions
    assert "cqrs_projection_lag_seconds" in expressions
    assert 'outcome="error"' in expressions and 'outcome="server_error"' in expressions


def test_the_dashboard_is_json_and_shows_what_the_issue_asks_for() -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    panels = dashboard["panels"]
    titles = [panel["title"] for panel in panels]
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for wanted in (
        "Commands per second by outcome",
        "Command latency p50 / p99",
        "GraphQL operations per second",
        "Projection position vs head",
        "Projection lag (age of the oldest unapplied event)",
        "Active subscriptions and websocket connections",
    ):
        assert wanted in titles
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"]
        for target in panel["targets"]:
            check_expression(target["expr"])
