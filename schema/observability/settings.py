"""The observability settings: METRICS, LOG_FORMAT, ACCESS_LOG, READY_MAX_LAG_SECONDS, and
whether the OTEL_* variables ask for traces."""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass

from schema.invalid_setting import InvalidSetting

_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


class LogFormat(enum.StrEnum):
    PLAIN = "plain"
    JSON = "json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservabilitySettings:
    # GET /metrics, and the metrics' observers on the hot paths
    metrics: bool = True
    log_format: LogFormat = LogFormat.PLAIN
    # one line per HTTP request; off by default: it costs more server time than a small
    # query's own reads (docs/benchmarks.md)
    access_log: bool = False
    # /health/ready answers 503 while a projection's oldest unapplied event is older
    ready_max_lag_seconds: float = 30.0
    # the OTEL_* variables ask for traces (the `otel` extra must be installed)
    tracing: bool = False

    @classmethod
    def from_environment(
        cls, environment: Mapping[str, str] | None = None
    ) -> ObservabilitySettings:
        env = os.environ if environment is None else environment
        return cls(
            metrics=_flag(env, "METRICS", True),
            log_format=log_format(env),
            access_log=_flag(env, "ACCESS_LOG", False),
            ready_max_lag_seconds=_seconds(env, "READY_MAX_LAG_SECONDS", 30.0),
            tracing=tracing_requested(env),
        )


def log_format(env: Mapping[str, str]) -> LogFormat:
    value = (env.get("LOG_FORMAT") or "").strip().lower()
    if not value:
        return LogFormat.PLAIN
    try:
        return LogFormat(value)
    except ValueError:
        raise InvalidSetting(f"LOG_FORMAT must be plain or json, not {value!r}") from None


def tracing_requested(env: Mapping[str, str]) -> bool:
    """As the OpenTelemetry SDK reads its environment: an exporter named (other than none)
    or an OTLP endpoint given, unless the SDK is disabled."""
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() in _ON:
        return False
    exporters = {e.strip().lower() for e in (env.get("OTEL_TRACES_EXPORTER") or "").split(",")}
    exporters.discard("")
    if exporters:
        return exporters != {"none"}
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise InvalidSetting(f"{name} must be on or off, not {value!r}")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise InvalidSetting(f"{name} must be a number of seconds above 0, not {value!r}")
    return seconds
