"""`cqrs-orders rebuild` and `cqrs-orders status` (schema/cli/rebuild.py, status.py) on real
databases."""

from __future__ import annotations

import argparse
import asyncio
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import EventStore
from handlers.bus import CommandBus
from readmodels import GetOrderById, ReadSide
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.running.shadow_build import shadow_build_of
from schema.cli import main, rebuild
from tests.conftest import sqlite_url
from tests.readmodels.conftest import create_order, line


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cqrs-orders")
    rebuild.add_parser(root.add_subparsers(dest="command", required=True))
    return root


async def run(*argv: str) -> int:
    """The command as `cqrs-orders` runs it, refusals included, on an event loop of its own.
    The command configures logging for its process: the root logger's handlers are put
    back after it, or later tests would log to this test's closed capture of stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return await asyncio.to_thread(main, list(argv))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL for the command: the test's database, on each backend."""
    monkeypatch.setenv("DATABASE_URL", database_url)


@pytest.mark.usefixtures("database")
async def test_rebuild_all_shows_progress_and_fills_the_tables(
    store: EventStore, bus: CommandBus, capsys: pytest.CaptureFixture[str]
) -> None:
    created = await create_order(bus, "ada", line("mug", 2, "4.50"))

    code = await run("rebuild", "--all")

    err = capsys.readouterr().err
    assert code == 0
    assert "rebuilding order_views" in err and "rebuilding customer_summaries" in err
    assert err.count(f"[{'#' * 30}]") >= 2
    assert "1/1 events" in err and "ETA" in err
    side = ReadSide.create(store)
    view = (await side.bus.ask(GetOrderById(order_id=created.order_id))).value
    assert view is not None and view.total_amount == Decimal("9.00")


@pytest.mark.usefixtures("database")
async def test_status_lists_each_projection_with_head_lag_and_state(
    store: EventStore, bus: CommandBus, capsys: pytest.CaptureFixture[str]
) -> None:
    created = await create_order(bus)
    assert await run("rebuild", "order_views") == 0
    capsys.readouterr()

    code = await run("status")

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].split() == [
        "projection",
        "position",
        "head",
        "lag",
        "state",
        "version",
        "code",
        "updated",
    ]
    views = lines[1].split()
    summaries = lines[2].split()
    assert views[:7] == [
        "order_views",
        str(created.position),
        str(created.position),
        "0",
        "RUNNING",
        "1",
        "1",
    ]
    assert summaries[:5] == [
        "customer_summaries",
        "0",
        str(created.position),
        str(created.position),
        "RUNNING",
    ]


@pytest.mark.usefixtures("database")
async def test_status_shows_a_build_beside_the_live_tables_with_its_rate(
    store: EventStore, bus: CommandBus, capsys: pytest.CaptureFixture[str]
) -> None:
    first = await create_order(bus, "ada")
    last = await create_order(bus, "bob")
    # a build beside the live tables, one window of one event done
    build = shadow_build_of(store, OrderViewsProjection(), window=1)
    await build.prepare(fresh=True)
    await build.catch_up(first.position)

    code = await run("status")

    out = capsys.readouterr().out
    assert code == 0
    assert f"building version 1: {first.position}/{last.position} RUNNING, " in out
    assert "events/s, about " in out and " s to go (updated " in out


@pytest.mark.usefixtures("database")
async def test_an_unknown_projection_is_refused(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("rebuild", "nope") == 2
    assert "no projection 'nope'" in capsys.readouterr().err


async def test_an_unmigrated_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "fresh"))
    (tmp_path / "fresh").mkdir()
    assert await run("status") == 2
    assert "run `cqrs-orders migrate`" in capsys.readouterr().err


def test_rebuild_needs_a_name_or_all() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["rebuild"])
