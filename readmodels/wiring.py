"""The read side assembled: projections, runner, hub, waiter and query bus over one store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from eventstore import EventStore
from readmodels.bus import QueryBus
from readmodels.consistency import ConsistencyWaiter
from readmodels.customer_summaries.projection import CustomerSummariesProjection
from readmodels.customer_summaries.queries import CustomerSummaryQueries, GetCustomerSummary
from readmodels.hub import UpdateHub
from readmodels.order_views.projection import OrderViewsProjection
from readmodels.order_views.queries import (
    GetCustomerOrders,
    GetOrderById,
    OrderQueries,
    SearchOrders,
)
from readmodels.projection import Projection
from readmodels.runner import ProjectionRunner
from readmodels.status_queries import GetProjectionStatuses, ProjectionStatusQueries


def default_projections() -> list[Projection]:
    return [OrderViewsProjection(), CustomerSummariesProjection()]


def query_bus(store: EventStore, waiter: ConsistencyWaiter, names: Sequence[str]) -> QueryBus:
    bus = QueryBus(waiter, store.engine)
    orders = OrderQueries()
    bus.register(GetOrderById, orders.by_id)
    bus.register(GetCustomerOrders, orders.customer_orders)
    bus.register(SearchOrders, orders.search)
    bus.register(GetCustomerSummary, CustomerSummaryQueries().summary)
    bus.register(GetProjectionStatuses, ProjectionStatusQueries(store, names).statuses)
    return bus


@dataclass(frozen=True, slots=True)
class ReadSide:
    """Everything the API needs of the read side. `async with` runs the projections."""

    hub: UpdateHub
    runner: ProjectionRunner
    waiter: ConsistencyWaiter
    bus: QueryBus

    @classmethod
    def create(
        cls, store: EventStore, projections: Sequence[Projection] | None = None, **runner: Any
    ) -> ReadSide:
        """`runner` takes ProjectionRunner's options (batch_size, safety_interval, ...)."""
        chosen = list(projections) if projections is not None else default_projections()
        names = [projection.name for projection in chosen]
        hub = UpdateHub()
        waiter = ConsistencyWaiter(hub, store, names)
        return cls(
            hub=hub,
            runner=ProjectionRunner(store, chosen, hub, **runner),
            waiter=waiter,
            bus=query_bus(store, waiter, names),
        )

    async def __aenter__(self) -> ReadSide:
        await self.runner.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.runner.close()
