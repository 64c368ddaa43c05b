"""The read side assembled: projections, runner, hub, waiter and query bus over one store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import EventStore
from readmodels.customer_summaries.projection import CustomerSummariesProjection
from readmodels.customer_summaries.queries import CustomerSummaryQueries, GetCustomerSummary
from readmodels.order_views.connections import (
    GetCustomerOrderConnection,
    OrderConnectionQueries,
    SearchOrderConnection,
)
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.order_views.queries import (
    GetCustomerOrders,
    GetOrderById,
    OrderQueries,
    SearchOrders,
)
from readmodels.projection import Projection
from readmodels.querying.consistency import ConsistencyWaiter
from readmodels.querying.query_bus import READ_CONNECTIONS, QueryBus
from readmodels.querying.replica_checkpoints import ReplicaCheckpoints
from readmodels.running.append_watch import AppendWatch
from readmodels.running.runner import ProjectionRunner
from readmodels.status.checkpoint_feed import CheckpointFeed
from readmodels.status.queries import GetProjectionStatuses, ProjectionStatusQueries
from readmodels.status.status_hub import StatusHub


def default_projections() -> list[Projection]:
    return [OrderViewsProjection(), CustomerSummariesProjection()]


def query_bus(
    store: EventStore,
    waiter: ConsistencyWaiter,
    names: Sequence[str],
    engine: AsyncEngine,
    statement_connections: int = READ_CONNECTIONS,
) -> QueryBus:
    bus = QueryBus(waiter, engine, statement_connections)
    orders = OrderQueries()
    bus.register(GetOrderById, orders.by_id)
    bus.register(GetCustomerOrders, orders.customer_orders)
    bus.register(SearchOrders, orders.search)
    connections = OrderConnectionQueries()
    bus.register(GetCustomerOrderConnection, connections.customer_orders)
    bus.register(SearchOrderConnection, connections.search)
    bus.register(GetCustomerSummary, CustomerSummaryQueries().summary)
    bus.register(GetProjectionStatuses, ProjectionStatusQueries(store, names).statuses)
    return bus


@dataclass(frozen=True, slots=True)
class ReadSide:
    """Everything the API needs of the read side.

    `start` follows the head of the log and (on PostgreSQL) the checkpoints of every
    process, and runs the projections unless told not to; `async with` starts it with
    the projections."""

    hub: StatusHub
    appends: AppendWatch
    feed: CheckpointFeed
    runner: ProjectionRunner
    waiter: ConsistencyWaiter
    bus: QueryBus

    @classmethod
    def create(
        cls,
        store: EventStore,
        projections: Sequence[Projection] | None = None,
        read_engine: AsyncEngine | None = None,
        query_connections: int = READ_CONNECTIONS,
        **runner: Any,
    ) -> ReadSide:
        """Queries read through `read_engine` (a replica's), or the store's engine, with
        `query_connections` bare connections for one-statement reads (PostgreSQL).
        `runner` takes ProjectionRunner's options (batch_size, safety_interval, ...)."""
        chosen = list(projections) if projections is not None else default_projections()
        names = [projection.name for projection in chosen]
        hub = StatusHub()
        appends = AppendWatch(store)
        replica = None if read_engine is None else ReplicaCheckpoints(read_engine)
        waiter = ConsistencyWaiter(hub, store, names, replica)
        return cls(
            hub=hub,
            appends=appends,
            feed=CheckpointFeed(store, hub, names, head=lambda: appends.latest),
            runner=ProjectionRunner(store, chosen, hub, appends, **runner),
            waiter=waiter,
            bus=query_bus(store, waiter, names, read_engine or store.engine, query_connections),
        )

    async def start(self, projections: bool = True) -> None:
        await self.appends.start()
        await self.feed.start()
        if projections:
            await self.runner.start()

    async def close(self) -> None:
        await self.runner.close()
        await self.feed.close()
        await self.appends.close()
        await self.bus.close()

    async def __aenter__(self) -> ReadSide:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
