"""A one-line progress display for long commands: done/total, rate and ETA, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, unit: str, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream
        self._started = time.monotonic()
        self._shown = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        # redrawing costs more than the work on fast paths: at most ten times a second
        if now - self._shown >= 0.1 or self.done >= self.total:
            self._shown = now
            self._draw(now)

    def finish(self) -> None:
        self._draw(time.monotonic())
        self._stream.write("\n")
        self._stream.flush()

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _draw(self, now: float) -> None:
        rate = self.rate
        remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        eta = f"{remaining:5.0f}s" if remaining != float("inf") else "    ?"
        self._stream.write(
            f"\r[{bar:<30}] {self.done:>9,}/{self.total:,} {self.unit} {rate:>9,.0f}/s  ETA {eta}"
        )
        self._stream.flush()
