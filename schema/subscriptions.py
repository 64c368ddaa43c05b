"""Subscriptions: projection positions pushed to clients as projections commit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator

import strawberry
from graphql import located_error

from readmodels.views import ProjectionStatus as ProjectionStatusView
from schema.context import Info
from schema.fanout import shared
from schema.scalars import BigInt
from schema.timeouts import timeout_seconds
from schema.types import ConsistencyUpdate, ProjectionStatus


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="One message each time a projection's position advances or its state "
        "changes (bursts may be coalesced; the last message always carries the newest position)."
    )
    async def projection_updates(
        self, info: Info, projections: list[str] | None = None
    ) -> AsyncGenerator[ProjectionStatus, None]:
        services = info.context.services
        with _located(info):
            names = services.waiter.awaited(projections)
            # leaving the block (complete, disconnect, shutdown) unsubscribes from the hub
            async with services.hub.subscribe(names) as updates:
                async for status in updates:
                    yield _shared_status(status)

    @strawberry.subscription(
        description="Messages while the awaited projections catch up to position; the last one "
        "has reached or timedOut true, and then the subscription completes."
    )
    async def consistency(
        self,
        info: Info,
        position: BigInt,
        projections: list[str] | None = None,
        timeout_ms: int | None = 5000,
    ) -> AsyncGenerator[ConsistencyUpdate, None]:
        with _located(info):
            progress = info.context.services.waiter.watch(
                int(position), projections, timeout_seconds(timeout_ms)
            )
            try:
                async for step in progress:
                    yield ConsistencyUpdate(
                        position=BigInt(step.position),
                        reached=step.reached,
                        timed_out=step.timed_out,
                        projections=[ProjectionStatus.of(status) for status in step.projections],
                    )
            finally:
                await progress.aclose()


# the GraphQL object of the latest status of each projection: every subscriber gets the hub's
# same status, and so the same object, whose execution schema.fanout then shares
_statuses: dict[str, tuple[ProjectionStatusView, ProjectionStatus]] = {}


def _shared_status(status: ProjectionStatusView) -> ProjectionStatus:
    known = _statuses.get(status.name)
    if known is None or known[0] is not status:
        known = (status, shared(ProjectionStatus.of(status)))
        _statuses[status.name] = known
    return known[1]


@contextlib.contextmanager
def _located(info: Info) -> Iterator[None]:
    """Gives an exception of a subscription's stream the field's path, as a resolver's has.
    Strawberry reports a stream's exceptions without one, and a pathless error passes for a
    fault of the request itself: its code lost, a server fault's text shown unmasked."""
    try:
        yield
    except Exception as error:
        raise located_error(error, None, info.path.as_list()) from error
