"""Subscriptions: projection positions pushed to clients as projections commit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator
from functools import partial

import strawberry
from graphql import located_error

from schema.context import Info
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
        with _located(info), info.context.subscription_slot():
            # leaving the block (complete, disconnect, shutdown) unsubscribes from the hub
            async with info.context.projection_updates(projections) as updates:
                with_error = info.context.actor.is_staff
                build = partial(ProjectionStatus.of, with_error=with_error)
                async for status in updates:
                    # staff and customers each share one payload: theirs differ in lastError
                    yield info.context.shared(f"{status.name}/{with_error}", status, build)

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
        with _located(info), info.context.subscription_slot():
            progress = info.context.watch_position(
                int(position), projections, timeout_seconds(timeout_ms)
            )
            try:
                async for step in progress:
                    yield ConsistencyUpdate(
                        position=BigInt(step.position),
                        reached=step.reached,
                        timed_out=step.timed_out,
                        projections=[
                            ProjectionStatus.of(status, with_error=info.context.actor.is_staff)
                            for status in step.projections
                        ],
                    )
            finally:
                await progress.aclose()


@contextlib.contextmanager
def _located(info: Info) -> Iterator[None]:
    """Gives an exception of a subscription's stream the field's path, as a resolver's has.
    Strawberry reports a stream's exceptions without one, and a pathless error passes for a
    fault of the request itself: its code lost, a server fault's text shown unmasked."""
    try:
        yield
    except Exception as error:
        raise located_error(error, None, info.path.as_list()) from error
