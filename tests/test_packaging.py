"""A plain `pip install .` must carry the migrations, the GraphiQL assets and the command."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_package_the_migrations_and_the_command(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = tmp_path.glob("cqrs_orders-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    for package in ("schema", "handlers", "eventstore", "readmodels", "migrations"):
        assert f"{package}/__init__.py" in names
    assert "migrations/script.py.mako" in names
    assert "migrations/versions/0001_event_store.py" in names
    assert "schema/schema.graphql" in names
    manifest = json.loads((ROOT / "schema/static/graphiql/vendor/manifest.json").read_text())
    for asset in manifest["assets"]:
        assert f"schema/static/graphiql/vendor/{asset['file']}" in names, asset["file"]
    assert not any(name.startswith("tests/") for name in names)
    [entry_points] = [n for n in names if n.endswith("entry_points.txt")]
    assert "cqrs-orders = schema.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
