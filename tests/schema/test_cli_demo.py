"""`cqrs-orders demo` loads realistic orders through the command bus."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.schema.test_cli_migrate import cli


def test_demo_loads_the_orders_asked_for_into_the_default_database(tmp_path: Path) -> None:
    result = cli("demo", "--orders", "25", database_url=None, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "loaded 25 orders" in result.stdout
    assert "25/25 orders" in result.stderr  # the progress line
    with sqlite3.connect(tmp_path / "orders.db") as db:
        counts = dict(db.execute("SELECT event_type, count(*) FROM events GROUP BY event_type"))
    assert counts["OrderCreated"] == 25
    assert sum(counts.values()) > 25, "some orders go on to be changed, shipped or cancelled"
