"""Query fields: each dispatches one query through the QueryBus and reads only read tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from readmodels.queries import (
    GetCustomerOrders,
    GetCustomerSummary,
    GetOrderById,
    GetProjectionStatuses,
    SearchOrders,
)
from readmodels.queries import OrderFilter as OrderFilterValue
from readmodels.queries import OrderSortField as OrderSortFieldValue
from readmodels.queries import SortOrder as SortOrderValue
from schema.context import Info
from schema.input_values import built_directly
from schema.inputs import parse_id
from schema.scalars import BigInt
from schema.timeouts import timeout_seconds
from schema.types import CustomerSummary, Order, OrderPage, OrderStatus, ProjectionStatus

OrderSortField = strawberry.enum(OrderSortFieldValue, name="OrderSortField")
SortOrder = strawberry.enum(SortOrderValue, name="SortOrder")


@built_directly
@strawberry.input
class OrderFilter:
    status: OrderStatus | None = None  # type: ignore[valid-type]
    customer_id: strawberry.ID | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def to_filter(self) -> OrderFilterValue:
        return OrderFilterValue(
            status=self.status,
            customer_id=None if self.customer_id is None else str(self.customer_id),
            min_total=self.min_total,
            max_total=self.max_total,
            created_after=self.created_after,
            created_before=self.created_before,
        )


def _min_position(value: BigInt | None) -> int | None:
    return None if value is None else int(value)


@strawberry.type(
    description="Every query field reads the read tables only. minPosition (optional) makes it "
    "wait, up to timeoutMs, until the projections it reads have applied that global position; "
    "if they have not by then, it answers with what they have and the response carries "
    "extensions.consistency.stale = true."
)
class Query:
    @strawberry.field
    async def order(
        self,
        info: Info,
        id: strawberry.ID,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> Order | None:
        view = await info.context.ask(
            GetOrderById(
                order_id=parse_id(id, "id"),
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return None if view is None else Order.of(view)

    @strawberry.field
    async def customer_orders(
        self,
        info: Info,
        customer_id: strawberry.ID,
        status: OrderStatus | None = None,  # type: ignore[valid-type]
        page: int | None = 1,
        page_size: int | None = 20,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> OrderPage:
        result = await info.context.ask(
            GetCustomerOrders(
                customer_id=str(customer_id),
                status=status,
                page=1 if page is None else page,
                page_size=20 if page_size is None else page_size,
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return OrderPage.of(result)

    @strawberry.field
    async def search_orders(
        self,
        info: Info,
        query: str,
        filters: OrderFilter | None = None,
        sort_by: OrderSortField | None = OrderSortFieldValue.CREATED_AT,  # type: ignore[valid-type]
        sort_order: SortOrder | None = SortOrderValue.DESC,  # type: ignore[valid-type]
        page: int | None = 1,
        page_size: int | None = 20,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> OrderPage:
        result = await info.context.ask(
            SearchOrders(
                query=query,
                filters=OrderFilterValue() if filters is None else filters.to_filter(),
                sort_by=sort_by or OrderSortFieldValue.CREATED_AT,
                sort_order=sort_order or SortOrderValue.DESC,
                page=1 if page is None else page,
                page_size=20 if page_size is None else page_size,
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return OrderPage.of(result)

    @strawberry.field
    async def customer_summary(
        self,
        info: Info,
        customer_id: strawberry.ID,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> CustomerSummary | None:
        view = await info.context.ask(
            GetCustomerSummary(
                customer_id=str(customer_id),
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return None if view is None else CustomerSummary.of(view)

    @strawberry.field
    async def projections(self, info: Info) -> list[ProjectionStatus]:
        statuses = await info.context.ask(GetProjectionStatuses())
        return [ProjectionStatus.of(status) for status in statuses]
