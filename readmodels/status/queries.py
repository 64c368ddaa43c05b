"""The query of every projection's status (position, head, lag, state, last error, version,
and a shadow build under way)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventstore import EventStore
from readmodels.querying.query_bus import Query
from readmodels.querying.read_session import ReadSession
from readmodels.results import ProjectionStatus
from readmodels.status.statuses import read_statuses


@dataclass(frozen=True, slots=True, kw_only=True)
class GetProjectionStatuses(Query[tuple[ProjectionStatus, ...]]):
    """Reads the checkpoints themselves, so it never waits (`reads` is empty)."""


class ProjectionStatusQueries:
    def __init__(self, store: EventStore, names: Sequence[str]) -> None:
        self._store = store
        self._names = list(names)

    async def statuses(
        self, _query: GetProjectionStatuses, session: ReadSession
    ) -> tuple[ProjectionStatus, ...]:
        async with session.reading() as conn:
            return tuple(await read_statuses(self._store, self._names, conn, with_builds=True))
