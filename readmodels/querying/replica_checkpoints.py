"""Read-your-writes on a lagging replica: its own checkpoints must have the position.

A streaming replica replays the primary's commits some time after they happen, so when a
projection has applied position P on the primary the replica may not have it yet, and a
query there would miss those rows. A wait therefore first waits for the primary (woken
by its notifications) and then reads the checkpoints on the replica. A hot standby can
neither LISTEN nor announce what it replays, so this second step looks again after a
pause that starts at a millisecond and doubles up to 50 ms, until the wait's deadline:
replication lag is usually milliseconds, and the cap bounds the cost of a long one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodels.status import checkpoints

FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05


class ReplicaCheckpoints:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def reached(self, names: Sequence[str], position: int, deadline: float) -> bool:
        """Whether the replica shows every named projection at `position` or beyond by
        `deadline` (event-loop time)."""
        loop = asyncio.get_running_loop()
        pause = FIRST_PAUSE
        while True:
            async with self._engine.connect() as conn:
                rows = await checkpoints.load(conn, names)
            if all(name in rows and rows[name].position >= position for name in names):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, LONGEST_PAUSE)
