"""The suite's report: one row per figure next to its baseline, and the machine it ran on."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """One measured figure: its repetitions, its baseline's, and the target it answers."""

    name: str
    backend: str
    unit: str
    runs: Sequence[float]
    baseline_runs: Sequence[float] = ()
    target: str = "-"
    # None when the target is not a simple threshold of this figure; otherwise whether met
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def baseline(self) -> float | None:
        return statistics.median(self.baseline_runs) if self.baseline_runs else None

    @property
    def ratio(self) -> float | None:
        baseline = self.baseline
        return None if not baseline else self.median / baseline


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.0f} {unit}"


def table(figures: Sequence[Figure]) -> list[str]:
    lines = [
        "| figure | backend | median | baseline median | ratio | target | met? | runs |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for figure in figures:
        ratio = "-" if figure.ratio is None else f"{figure.ratio:.2f}"
        met = {None: "-", True: "yes", False: "**no**"}[figure.met]
        runs = " / ".join(_number(run, figure.unit).split(" ")[0] for run in figure.runs)
        lines.append(
            f"| {figure.name} | {figure.backend} | {_number(figure.median, figure.unit)} "
            f"| {_number(figure.baseline, figure.unit)} | {ratio} | {figure.target} "
            f"| {met} | {runs} |"
        )
    return lines


def git_revision() -> str:
    """The short commit id of HEAD, and whether the working tree differs from it: others
    edit the tree while benchmarks run. Read-only git commands only."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        root = Path(__file__).resolve().parent.parent

        def git(*arguments: str) -> str:
            result = subprocess.run(["git", *arguments], cwd=root, capture_output=True, check=True)
            return result.stdout.decode().strip()

        revision = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
        return f"{revision} (working tree modified)" if changed else revision
    return "unknown"


def cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())
