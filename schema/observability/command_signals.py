"""The write side's signals: each command's outcome, duration and retries as metrics, its
span and its append's span, and the command's ids in the log lines written meanwhile."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from handlers.commands import OrderCommand
from handlers.errors import Forbidden, InvalidInput, InvalidState, OrderNotFound, VersionConflict
from handlers.outcome import CommandOutcome
from schema.observability import log_context
from schema.observability.metrics import Metrics

if TYPE_CHECKING:
    from schema.observability.tracing import ActiveSpan, Tracing


def outcome_of(error: BaseException) -> str:
    """The `outcome` label of a command that raised `error`."""
    match error:
        case InvalidInput():
            return "bad_user_input"
        case OrderNotFound():
            return "not_found"
        case VersionConflict():
            return "conflict"
        case InvalidState():
            return "invalid_state"
        case Forbidden():
            return "forbidden"
    return "error"


class CommandSignals:
    """The command bus's observer (handlers/observation.py's CommandObserver)."""

    def __init__(self, metrics: Metrics | None, tracing: Tracing | None, log_fields: bool) -> None:
        self.metrics = metrics
        self.tracing = tracing
        self.log_fields = log_fields

    def watch(self, command: OrderCommand) -> _Watch:
        return _Watch(self, command)


class _Watch:
    __slots__ = ("_command", "_outcome", "_signals", "_span", "_started", "_type")

    def __init__(self, signals: CommandSignals, command: OrderCommand) -> None:
        self._signals = signals
        self._command = command
        self._type = type(command).__name__
        self._outcome = "ok"
        self._span: ActiveSpan | None = None
        self._started = 0.0

    def __enter__(self) -> _Watch:
        signals, command = self._signals, self._command
        if signals.log_fields:
            log_context.bind(command=self._type, command_id=str(command.command_id))
        if signals.tracing is not None:
            self._span = signals.tracing.command(
                self._type, str(command.command_id), str(command.order_id)
            )
            if signals.log_fields:
                log_context.bind(trace_id=self._span.trace_id)
        self._started = time.perf_counter()
        return self

    def retried(self) -> None:
        metrics = self._signals.metrics
        if metrics is not None:
            metrics.child(metrics.command_retries, self._type).inc()

    def handled(self, outcome: CommandOutcome) -> None:
        self._outcome = "duplicate" if outcome.duplicate else "ok"
        if self._signals.log_fields:
            log_context.bind(stream_id=outcome.stream_id, position=outcome.position)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        elapsed = time.perf_counter() - self._started
        outcome = self._outcome if exc is None else outcome_of(exc)
        metrics = self._signals.metrics
        if metrics is not None:
            metrics.child(metrics.commands, self._type, outcome).inc()
            metrics.child(metrics.command_duration, self._type).observe(elapsed)
        if self._span is not None:
            self._span.span.set_attribute("cqrs.outcome", outcome)
            self._span.end(exc, failed=outcome == "error")
