"""A shadow build: a projection built beside its live tables, then switched in at once.

The shadow instance writes tables named with the suffix `__v<version>` and has its own
checkpoint row, `<name>@<version>`, while the live tables keep serving and keep being
updated by the runner. Once the shadow has caught up with the live position, one
transaction takes the live tables and the live checkpoint row (the live runner's batches
wait, or roll back when overtaken), checks that the shadow is still at least there (else
it lets go, catches up again and retries), swaps the tables (shadow_tables.py) and moves
the live checkpoint to the shadow's position: never behind the old one, so a
read-your-writes waiter on the live checkpoint stays right across the switch; its NOTIFY
(and, through the runner's reload, this process's hub) announce it.

Crash safety comes from the database: before the switch's commit the live tables and
checkpoint are untouched, and the shadow's rows and checkpoint were committed together,
so a new build resumes from the shadow checkpoint; after it, the new tables are live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import EventStore
from readmodels.projection import Projection
from readmodels.results import ProjectionState
from readmodels.running import shadow_tables
from readmodels.running.bulk_replay import WINDOW, bulk_replay
from readmodels.running.shadow_tables import TablePair
from readmodels.status import checkpoints

log = logging.getLogger(__name__)

# how long to wait for events committed but held back by the read horizon (PostgreSQL)
HELD_BACK_PAUSE = 0.01


class ShadowBuildFailed(Exception):
    """An event the new version cannot apply: the live version keeps serving."""


@dataclass(frozen=True, slots=True)
class ShadowNames:
    suffix: str
    checkpoint: str

    @classmethod
    def of(cls, name: str, version: int) -> ShadowNames:
        return cls(suffix=f"__v{version}", checkpoint=shadow_checkpoint(name, version))


def shadow_checkpoint(name: str, version: int) -> str:
    """The checkpoint row of a shadow build of version `version` of projection `name`."""
    return f"{name}@{version}"


class ShadowBuild:
    """Builds `shadow` (the projection writing its shadow tables) beside `live`."""

    def __init__(
        self,
        store: EventStore,
        live: Projection,
        shadow: Projection,
        names: ShadowNames,
        *,
        window: int = WINDOW,
    ) -> None:
        self._store = store
        self._live = live
        self._shadow = shadow
        self._names = names
        self._window = window
        self._pairs = [
            TablePair(live, shadow) for live, shadow in zip(live.tables, shadow.tables, strict=True)
        ]

    @property
    def checkpoint(self) -> str:
        return self._names.checkpoint

    async def prepare(self, *, fresh: bool) -> int:
        """Create the shadow tables and checkpoint (from scratch when `fresh`, else
        resuming a build a crash interrupted); the shadow's position."""
        async with self._store.write_transaction() as conn:
            if fresh:
                await shadow_tables.drop(conn, self._shadow.tables)
                await checkpoints.remove(conn, self.checkpoint)
            await shadow_tables.create(conn, self._pairs)
            await checkpoints.ensure(conn, [self._live.name])
            await checkpoints.ensure(conn, [self.checkpoint], self._shadow.version)
            await checkpoints.start_build(conn, self.checkpoint)
            row = (await checkpoints.load(conn, [self.checkpoint]))[self.checkpoint]
        return int(row.position)

    async def failed(self) -> bool:
        """Whether an earlier build of this version stopped on an event (its row FAILED)."""
        async with self._store.engine.connect() as conn:
            row = (await checkpoints.load(conn, [self.checkpoint])).get(self.checkpoint)
        return row is not None and row.state == ProjectionState.FAILED.value

    async def catch_up(self, until: int, on_batch: Callable[[int], None] | None = None) -> int:
        """Replay the log into the shadow tables up to at least `until` (or as far as it is
        readable), a large window at a time (bulk_replay.py); its position."""
        while True:
            row = await bulk_replay(
                self._store,
                self._shadow,
                self.checkpoint,
                until=until,
                on_batch=on_batch,
                window=self._window,
            )
            if row.state == ProjectionState.FAILED.value:
                raise ShadowBuildFailed(row.last_error)
            if row.position >= until:
                return int(row.position)
            # committed, not yet readable: an older transaction is still open below it
            await asyncio.sleep(HELD_BACK_PAUSE)

    async def switch(self) -> int:
        """Index the shadow tables, then make them live in one transaction once they have
        reached the live position; the position the live checkpoint has after it."""
        async with self._store.write_transaction() as conn:
            await shadow_tables.index_shadows(conn, self._pairs, self._names.suffix)
        while True:
            await self.catch_up(await self._live_position())
            async with self._store.engine.connect() as conn:
                await shadow_tables.outlive_older_snapshots(conn)
            position = await self._switch_if_caught_up()
            if position is not None:
                log.info("%s: switched to its shadow build at %s", self._live.name, position)
                return position

    async def _switch_if_caught_up(self) -> int | None:
        """Switch if the shadow is at least at the live position (None: the live runner
        moved on meanwhile). The shadow's rows are all committed before the live tables
        are taken: a PostgreSQL reader waiting for them reads the new table with the
        snapshot it took before, and would not see rows the switch itself wrote."""
        async with self._store.write_transaction() as conn:
            await shadow_tables.lock_live(conn, self._pairs)
            live = await checkpoints.lock(conn, self._live.name)
            position = await self._position(conn)
            if position < live.position:
                return None
            await shadow_tables.switch(conn, self._pairs, self._names.suffix)
            await checkpoints.remove(conn, self.checkpoint)
            await checkpoints.set_version(conn, self._live.name, self._shadow.version)
            moved = await checkpoints.advance(conn, self._live.name, live.position, position, True)
            if moved is None:
                raise RuntimeError(f"{self._live.name}: its checkpoint moved under the switch")
        return position

    async def _live_position(self) -> int:
        async with self._store.engine.connect() as conn:
            return int((await checkpoints.load(conn, [self._live.name]))[self._live.name].position)

    async def abandon(self) -> None:
        """Drop the shadow tables and checkpoint (the live version is untouched)."""
        async with self._store.write_transaction() as conn:
            await shadow_tables.drop(conn, self._shadow.tables)
            await checkpoints.remove(conn, self.checkpoint)

    async def _position(self, conn: AsyncConnection) -> int:
        row = (await checkpoints.load(conn, [self.checkpoint]))[self.checkpoint]
        if row.state == ProjectionState.FAILED.value:
            raise ShadowBuildFailed(row.last_error)
        return int(row.position)


def shadow_build_of(store: EventStore, live: Projection, window: int = WINDOW) -> ShadowBuild:
    """The shadow build of the version `live`'s code declares."""
    names = ShadowNames.of(live.name, live.version)
    return ShadowBuild(store, live, live.in_tables(names.suffix), names, window=window)
