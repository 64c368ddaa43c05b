"""Rebuild progress: events done, events/s, time left; and the refusal of a rebuild that
would collide with another."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


class RebuildInProgress(Exception):
    """Another rebuild of the projection is under way, of the other kind (in place, or
    beside the live tables): the two would undo each other's work."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RebuildProgress:
    projection: str
    done: int
    total: int  # events in the log when the rebuild started, or done if more came since
    elapsed: float

    @property
    def events_per_second(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.events_per_second
        return (self.total - self.done) / rate if rate > 0 else None


ProgressCallback = Callable[[RebuildProgress], None]


class ProgressCounter:
    """Turns the sizes of applied batches into RebuildProgress for a callback."""

    def __init__(self, projection: str, total: int, on_progress: ProgressCallback | None) -> None:
        self._started = time.perf_counter()
        self._on_progress = on_progress
        self.progress = RebuildProgress(projection=projection, done=0, total=total, elapsed=0)

    def batch_done(self, count: int) -> None:
        done = self.progress.done + count
        self.progress = RebuildProgress(
            projection=self.progress.projection,
            done=done,
            total=max(self.progress.total, done),
            elapsed=time.perf_counter() - self._started,
        )
        if self._on_progress is not None:
            self._on_progress(self.progress)
