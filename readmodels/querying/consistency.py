"""The consistency waiter: until projections have applied a position, driven by publications."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import dataclass

from eventstore import EventStore
from readmodels.errors import InvalidQuery
from readmodels.querying.replica_checkpoints import ReplicaCheckpoints
from readmodels.results import ProjectionStatus
from readmodels.status.status_hub import StatusHub
from readmodels.status.statuses import read_statuses


@dataclass(frozen=True, slots=True, kw_only=True)
class Consistency:
    """How fresh a query's answer is: stale when the awaited projections had not reached
    `position` in time (position None: the query asked for nothing)."""

    stale: bool
    position: int | None
    awaited: tuple[str, ...]


FRESH = Consistency(stale=False, position=None, awaited=())


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsistencyProgress:
    position: int
    reached: bool
    timed_out: bool
    projections: tuple[ProjectionStatus, ...]


class ConsistencyWaiter:
    def __init__(
        self,
        hub: StatusHub,
        store: EventStore,
        names: Sequence[str],
        replica: ReplicaCheckpoints | None = None,
    ) -> None:
        """With `replica`, a position counts as reached once the replica's checkpoints show
        it too (queries read there)."""
        self._hub = hub
        self._store = store
        self._names = tuple(names)
        self._replica = replica

    def awaited(self, projections: Collection[str] | None) -> tuple[str, ...]:
        """The projections to wait for: the named ones, or all of them for None."""
        if projections is None:
            return self._names
        unknown = sorted(set(projections) - set(self._names))
        if unknown:
            known = ", ".join(self._names)
            raise InvalidQuery(
                f"unknown projection(s) {', '.join(unknown)}; known: {known}", "projections"
            )
        return tuple(dict.fromkeys(projections))

    async def wait_for(
        self,
        position: int,
        projections: Collection[str] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - running out of time answers stale, not raise
    ) -> Consistency:
        """Return as soon as every awaited projection has applied `position`, or when
        `timeout` seconds have passed, then saying stale (it never raises on timeout)."""
        names = self._checked(position, projections)
        async for progress in self._watch(names, position, _deadline(timeout)):
            last = progress
        return Consistency(stale=not last.reached, position=position, awaited=names)

    def watch(
        self, position: int, projections: Collection[str] | None = None, timeout: float = 5.0
    ) -> AsyncGenerator[ConsistencyProgress, None]:
        """One message now and one per relevant update, until reached or timed out (the
        last message says which). Close it (`aclose`) to stop early."""
        return self._watch(self._checked(position, projections), position, _deadline(timeout))

    def _checked(self, position: int, projections: Collection[str] | None) -> tuple[str, ...]:
        if position < 0:
            raise InvalidQuery("a position is 0 or more", "position")
        return self.awaited(projections)

    async def _watch(
        self, names: tuple[str, ...], position: int, deadline: float
    ) -> AsyncGenerator[ConsistencyProgress, None]:
        # Subscribe before the first look: an update published in between is queued, not lost.
        async with self._hub.subscribe(names) as updates:
            known = {name: self._hub.latest(name) for name in names}
            statuses = {name: status for name, status in known.items() if status is not None}
            if len(statuses) < len(names):
                # nothing published in this process yet (its runner has not started, or
                # runs elsewhere): the checkpoints table knows
                statuses = {s.name: s for s in await read_statuses(self._store, names)}
            while True:
                reached = _reached(statuses, names, position)
                if reached and self._replica is not None:
                    reached = await self._replica.reached(names, position, deadline)
                timed_out = not reached and asyncio.get_running_loop().time() >= deadline
                yield ConsistencyProgress(
                    position=position,
                    reached=reached,
                    timed_out=timed_out,
                    projections=tuple(statuses[name] for name in names),
                )
                if reached or timed_out:
                    return
                try:
                    async with asyncio.timeout_at(deadline):
                        update = await anext(updates)
                except TimeoutError:
                    continue
                statuses[update.name] = update


def _deadline(timeout: float) -> float:
    return asyncio.get_running_loop().time() + timeout


def _reached(statuses: dict[str, ProjectionStatus], names: Sequence[str], position: int) -> bool:
    return all(name in statuses and statuses[name].position >= position for name in names)
