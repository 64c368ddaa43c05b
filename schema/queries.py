"""Query fields: each dispatches one query through the QueryBus and reads only read tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import strawberry

from readmodels import (
    GetCustomerOrderConnection,
    GetCustomerOrders,
    GetCustomerSummary,
    GetOrderById,
    GetProjectionStatuses,
    SearchOrderConnection,
    SearchOrders,
)
from readmodels import OrderFilter as OrderFilterValue
from readmodels import OrderSortField as OrderSortFieldValue
from readmodels import SortOrder as SortOrderValue
from schema.connections import OrderConnection, window
from schema.context import Info
from schema.inputs import parse_id
from schema.scalars import BigInt
from schema.strawberry_hooks import built_directly
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


def _scoped(info: Info, given: OrderFilter | None) -> OrderFilterValue:
    """The filters narrowed to the caller's own orders, in the SQL (staff: as given)."""
    filters = OrderFilterValue() if given is None else given.to_filter()
    scope = info.context.customer_scope
    if scope is None:
        return filters
    if filters.customer_id is not None:
        info.context.check_customer(filters.customer_id, "filters.customerId")
    return replace(filters, customer_id=scope)


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
                customer_id=info.context.customer_scope,
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
        info.context.check_customer(str(customer_id), "customerId")
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
                filters=_scoped(info, filters),
                sort_by=sort_by or OrderSortFieldValue.CREATED_AT,
                sort_order=sort_order or SortOrderValue.DESC,
                page=1 if page is None else page,
                page_size=20 if page_size is None else page_size,
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return OrderPage.of(result)

    @strawberry.field(
        description="A customer's orders, newest first, by cursor (Relay): `first` after "
        "`after`, or `last` before `before` (at most 100; 20 when neither is given)."
    )
    async def customer_orders_connection(
        self,
        info: Info,
        customer_id: strawberry.ID,
        status: OrderStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> OrderConnection:
        info.context.check_customer(str(customer_id), "customerId")
        result = await info.context.ask(
            GetCustomerOrderConnection(
                customer_id=str(customer_id),
                status=status,
                window=window(first, after, last, before),
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return OrderConnection.of(result)

    @strawberry.field(
        description="searchOrders by cursor (Relay); a customer's search holds only their "
        "own orders, as searchOrders does."
    )
    async def search_orders_connection(
        self,
        info: Info,
        query: str,
        filters: OrderFilter | None = None,
        sort_by: OrderSortField | None = OrderSortFieldValue.CREATED_AT,  # type: ignore[valid-type]
        sort_order: SortOrder | None = SortOrderValue.DESC,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> OrderConnection:
        result = await info.context.ask(
            SearchOrderConnection(
                query=query,
                filters=_scoped(info, filters),
                sort_by=sort_by or OrderSortFieldValue.CREATED_AT,
                sort_order=sort_order or SortOrderValue.DESC,
                window=window(first, after, last, before),
                min_position=_min_position(min_position),
                timeout=timeout_seconds(timeout_ms),
            )
        )
        return OrderConnection.of(result)

    @strawberry.field
    async def customer_summary(
        self,
        info: Info,
        customer_id: strawberry.ID,
        min_position: BigInt | None = None,
        timeout_ms: int | None = 5000,
    ) -> CustomerSummary | None:
        info.context.check_customer(str(customer_id), "customerId")
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
        with_error = info.context.actor.is_staff
        return [ProjectionStatus.of(status, with_error=with_error) for status in statuses]
