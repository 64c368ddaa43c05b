"""What the write side tells whoever observes it (metrics, traces, logs: schema/observability/).

Protocols only: the write side knows nothing of Prometheus or OpenTelemetry, and with no
observer given it pays one `is None` test per command.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from handlers.commands import OrderCommand
from handlers.outcome import CommandOutcome


class CommandWatch(Protocol):
    """One command being handled; the context manager that yields it sees how it ended
    (an exception is the command's refusal or failure)."""

    def retried(self) -> None:
        """The stream moved under the command: it runs again on the reloaded order."""

    def handled(self, outcome: CommandOutcome) -> None:
        """The command succeeded (or was a duplicate of one that had)."""


class CommandObserver(Protocol):
    def watch(self, command: OrderCommand) -> AbstractContextManager[CommandWatch]:
        """Entered around the whole handling of `command`, retries included."""


class AppendTracing(Protocol):
    def event_metadata(self) -> Mapping[str, str]:
        """What each appended event's metadata carries of the current trace (`traceparent`),
        so that the projection batch that applies it can link back to the command."""

    def appending(self, stream_id: str, events: int) -> AbstractContextManager[object]:
        """Entered around one append of `events` events to `stream_id`."""
