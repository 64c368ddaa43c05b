"""`python -m tests.scaleout.worker`: `cqrs-orders project` with the counting projection
added, through the same `run_projections` as the real command."""

from __future__ import annotations

import asyncio
import logging

from readmodels import default_projections
from schema.cli.project import run_projections
from schema.settings import Settings
from tests.scaleout.counting import CountingProjection


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    projections = [*default_projections(), CountingProjection()]
    asyncio.run(run_projections(Settings.from_environment(), projections))


if __name__ == "__main__":
    main()
