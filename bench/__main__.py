"""The benchmark suite: every figure of the service next to its baseline, in one table.

    python -m bench [--sections append,http,metrics,persisted,rebuild,lag,fanout,sqlite] [--quick]
        [--postgres-url URL] [--output PATH]

Each section makes its own scratch database and drops it. The load generator (this
process) is pinned to the last core and servers started here to the first; PostgreSQL is
not pinned. Every figure is the median of 3 repetitions, measured next to its baseline in
the same run; progress goes to stderr, the table to stdout and to bench/results/<UTC
time>.md (or --output). --quick is a smoke run of about a minute: short windows, one
repetition, fewer events; its figures are not for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import append, fanout, http, metrics_overhead, persisted, projections, sqlite
from bench.database import default_admin_url, server_version
from bench.pinning import ALLOWED, pin_load_generator
from bench.report import Figure, cpu_model, git_revision, load_average, table

SECTIONS = ("append", "http", "metrics", "persisted", "rebuild", "lag", "fanout", "sqlite")
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Budget:
    """Time and size of every section: the full run, or the --quick smoke run."""

    repeats: int
    append_seconds: float
    warmup: float
    http_seconds: float
    # (PostgreSQL, SQLite): the rebuild target is both backends' at 100,000 events
    rebuild_events: tuple[int, int]
    lag_events: int
    lag_seconds: float
    fanout_seconds: float


FULL = Budget(3, 3.0, 1.0, 4.0, (100_000, 100_000), 2_000, 5.0, 8.0)
QUICK = Budget(1, 1.0, 0.5, 1.5, (3_000, 1_000), 500, 2.0, 2.0)


def _uvloop_runner() -> asyncio.Runner:
    """The HTTP and websocket load generators run on uvloop, as the servers do: the default
    loop spends more CPU per request than the servers under test. The append and projection
    sections keep the default loop, on which their earlier figures were measured."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def _run(coroutine: Coroutine[Any, Any, list[Figure]], fast_loop: bool = False) -> list[Figure]:
    with _uvloop_runner() if fast_loop else asyncio.Runner() as runner:
        return runner.run(coroutine)


def section_runners(
    options: argparse.Namespace, budget: Budget
) -> dict[str, Callable[[], list[Figure]]]:
    url, repeats = options.postgres_url, budget.repeats

    async def append_section() -> list[Figure]:
        return [await append.suite_figure(url, budget.append_seconds, budget.warmup, repeats)]

    def projection_section(
        events: tuple[int, int], lag: float | None
    ) -> Callable[[], list[Figure]]:
        def run() -> list[Figure]:
            figures = []
            for backend, count in zip(("postgres", "sqlite"), events, strict=True):
                section = projections.suite_figures(
                    backend, url, count, repeats, rebuild=lag is None, lag_seconds=lag
                )
                figures += _run(section)
            return figures

        return run

    return {
        "append": lambda: _run(append_section()),
        "http": lambda: _run(
            http.figures(url, budget.warmup, budget.http_seconds, repeats), fast_loop=True
        ),
        "metrics": lambda: _run(
            metrics_overhead.figures(url, budget.warmup, budget.http_seconds, repeats),
            fast_loop=True,
        ),
        "persisted": lambda: _run(
            persisted.figures(url, budget.warmup, budget.http_seconds, repeats), fast_loop=True
        ),
        "rebuild": projection_section(
            budget.rebuild_events if options.events is None else (options.events,) * 2, None
        ),
        # the lag is measured on tables already holding some orders, not on empty ones
        "lag": projection_section((budget.lag_events, budget.lag_events), budget.lag_seconds),
        "fanout": lambda: _run(fanout.figures(url, budget.fanout_seconds, repeats), fast_loop=True),
        # on uvloop, as the service runs: the HTTP load generator needs it too
        "sqlite": lambda: _run(
            sqlite.figures(
                url,
                budget.append_seconds,
                budget.warmup,
                budget.http_seconds,
                budget.lag_events,
                budget.lag_seconds,
                repeats,
            ),
            fast_loop=True,
        ),
    }


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--sections",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=list(SECTIONS),
        help=f"comma-separated, of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    parser.add_argument(
        "--postgres-url",
        default=default_admin_url(),
        help="admin URL of the server where scratch databases are created "
        "(default: $BENCH_POSTGRES_URL or the local server)",
    )
    parser.add_argument(
        "--events",
        type=int,
        help="events of the rebuild section on each backend (default: 100,000; "
        "1000000 shows whether a rebuild's cost and memory stay linear and bounded)",
    )
    parser.add_argument("--output", type=Path, help="default: bench/results/<UTC time>.md")
    options = parser.parse_args(argv)
    unknown = set(options.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return options


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_arguments(argv)
    budget = QUICK if options.quick else FULL
    started_at, load_at_start = datetime.now(UTC), load_average()
    pinning = pin_load_generator()
    print(f"bench: {pinning}", file=sys.stderr)
    runners = section_runners(options, budget)
    figures: list[Figure] = []
    durations = []
    for index, name in enumerate(options.sections, 1):
        print(f"bench: [{index}/{len(options.sections)}] {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        figures += runners[name]()
        durations.append(f"{name} {time.perf_counter() - started:.0f} s")
    postgres = asyncio.run(server_version(options.postgres_url))
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [
        f"# Benchmarks, {started_at:%Y-%m-%d %H:%M} UTC"
        + (" (--quick smoke run)" if options.quick else ""),
        "",
        f"- command: `{command}`",
        f"- code: {git_revision()}",
        f"- machine: {cpu_model()}, {len(ALLOWED)} cores; {pinning}",
        f"- load average (1/5/15 min): {load_at_start} at start, {load_average()} at the end",
        f"- PostgreSQL {postgres}; sections: {', '.join(durations)}",
        f"- medians of {budget.repeats} repetition(s); ratio = median / baseline median",
        "",
        *table(figures),
        "",
        *(f"- {note}" for figure in figures for note in figure.notes),
        "",
    ]
    report = "\n".join(lines)
    print(report)
    output = options.output or RESULTS / f"{started_at:%Y%m%dT%H%M%SZ}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    print(f"bench: written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
