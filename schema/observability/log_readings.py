"""The log's head and each projection's position, state and lag in seconds, read from the
database: what /metrics and /health/ready report, the same from every process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eventstore import EventStore
from eventstore.log_details import first_recorded_after
from readmodels import ProjectionState, read_statuses


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionReading:
    name: str
    position: int
    state: ProjectionState
    # how long the oldest event the projection has not applied has waited (0: caught up)
    lag_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LogReadings:
    head: int
    projections: tuple[ProjectionReading, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingSources:
    """Where the readings come from: the store, and the projections to report."""

    store: EventStore
    projections: tuple[str, ...]

    async def read(self) -> LogReadings:
        async with self.store.engine.connect() as conn:
            statuses = await read_statuses(self.store, list(self.projections), conn)
            oldest = [await first_recorded_after(conn, s.position) for s in statuses]
            head = statuses[0].head_position if statuses else await self.store.head_position(conn)
        now = datetime.now(UTC)
        return LogReadings(
            head=head,
            projections=tuple(
                ProjectionReading(
                    name=status.name,
                    position=status.position,
                    state=status.state,
                    lag_seconds=_age(now, recorded),
                )
                for status, recorded in zip(statuses, oldest, strict=True)
            ),
        )


def _age(now: datetime, recorded: datetime | None) -> float:
    return 0.0 if recorded is None else max(0.0, (now - recorded).total_seconds())
