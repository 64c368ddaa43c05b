"""prometheus-client's multiprocess mode, for `serve --workers N`: one scrape, every worker.

Each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR, and whichever worker
answers a scrape adds up every file. The client picks the mode when it is first imported,
from that variable: `serve` sets it before uvicorn starts its workers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import multiprocess as client

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# the files of the gauges that count only live processes: gauge_livesum_<pid>.db
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")

log = logging.getLogger(__name__)


def enabled() -> bool:
    return VARIABLE in os.environ


@contextlib.contextmanager
def worker_directory(workers: int, metrics: bool) -> Iterator[None]:
    """Within the block, PROMETHEUS_MULTIPROC_DIR names an empty directory when several
    workers will serve metrics: the operator's (its old files removed: they would add a
    previous run's counts), else a temporary one removed afterwards."""
    if not metrics or (workers < 2 and not enabled()):
        yield
        return
    given = os.environ.get(VARIABLE)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="cqrs-orders-metrics-") as directory:
        os.environ[VARIABLE] = directory
        try:
            yield
        finally:
            del os.environ[VARIABLE]


def forget_dead_workers() -> None:
    """Drop the live gauges of workers that died without saying so (a crash, a kill), so
    that their connections and subscriptions stop counting; a worker that stops cleanly
    drops its own (`forget_this_process`)."""
    directory = os.environ[VARIABLE]
    pids = {int(m.group(1)) for f in os.listdir(directory) if (m := _LIVE_GAUGE_FILE.fullmatch(f))}
    for pid in pids:
        if not _alive(pid):
            log.info("metrics: dropping the live gauges of worker %s, which has ended", pid)
            client.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def forget_this_process() -> None:
    if enabled():
        client.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
