"""What the projection runner tells whoever observes it (metrics, traces, logs:
schema/observability/). A protocol only: with no observer given, a batch pays one `is None`
test."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from eventstore import LoggedEvent


class ProjectionObserver(Protocol):
    def batch(
        self, projection: str, events: Sequence[LoggedEvent]
    ) -> AbstractAsyncContextManager[object]:
        """Entered around the transaction that applies `events` and moves the checkpoint past
        them; it ends without an exception only if that transaction committed."""
