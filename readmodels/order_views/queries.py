"""Queries on order_views: one order, a customer's orders, and search."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, ClassVar
from uuid import UUID

from asyncpg import Record
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import ColumnElement

from readmodels.errors import InvalidQuery
from readmodels.order_views.search import matching
from readmodels.order_views.table import order_views, view_from, view_of
from readmodels.querying.query_bus import Query
from readmodels.querying.read_session import ReadSession
from readmodels.results import OrderPage, OrderStatus, OrderView

MAX_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 200
_c = order_views.c


class OrderSortField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    TOTAL_AMOUNT = "TOTAL_AMOUNT"


class SortOrder(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


_SORT_COLUMNS = {
    OrderSortField.CREATED_AT: _c.created_at,
    OrderSortField.UPDATED_AT: _c.updated_at,
    OrderSortField.TOTAL_AMOUNT: _c.total_cents,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilter:
    """Every given field narrows the search; created_after is inclusive, created_before
    exclusive, so consecutive ranges never count an order twice."""

    status: OrderStatus | None = None
    customer_id: str | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetOrderById(Query[OrderView | None]):
    """One order; with `customer_id`, only if it is that customer's (a customer's scope is
    part of the SQL, so another customer's order reads exactly like a missing one)."""

    reads: ClassVar[tuple[str, ...]] = ("order_views",)
    order_id: UUID
    customer_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCustomerOrders(Query[OrderPage]):
    """A customer's orders, newest first."""

    reads: ClassVar[tuple[str, ...]] = ("order_views",)
    customer_id: str
    status: OrderStatus | None = None
    page: int = 1
    page_size: int = 20

    def check(self) -> None:
        _check_page(self.page, self.page_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchOrders(Query[OrderPage]):
    """Orders containing `query` (see search.matching) and passing `filters`. A blank
    query matches every order, so the filters alone can list orders."""

    reads: ClassVar[tuple[str, ...]] = ("order_views",)
    query: str
    filters: OrderFilter = field(default_factory=OrderFilter)
    sort_by: OrderSortField = OrderSortField.CREATED_AT
    sort_order: SortOrder = SortOrder.DESC
    page: int = 1
    page_size: int = 20

    def check(self) -> None:
        _check_page(self.page, self.page_size)
        if len(self.query) > MAX_SEARCH_LENGTH:
            raise InvalidQuery(f"query is longer than {MAX_SEARCH_LENGTH} characters", "query")
        for name in ("min_total", "max_total"):
            amount = getattr(self.filters, name)
            if amount is not None and not amount.is_finite():
                raise InvalidQuery(f"{name} must be a number", f"filters.{name}")
        for name in ("created_after", "created_before"):
            moment = getattr(self.filters, name)
            if moment is not None and moment.tzinfo is None:
                raise InvalidQuery(f"{name} needs a time zone", f"filters.{name}")


def _check_page(page: int, page_size: int) -> None:
    if page < 1:
        raise InvalidQuery("page starts at 1", "page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidQuery(f"page_size must be between 1 and {MAX_PAGE_SIZE}", "page_size")


_BY_ID = select(order_views).where(_c.order_id == bindparam("order_id"))
_SCOPED_BY_ID = _BY_ID.where(_c.customer_id == bindparam("customer_id"))
_PG_BY_ID = str(_BY_ID.compile(dialect=asyncpg_dialect()))  # type: ignore[no-untyped-call]
_PG_SCOPED_BY_ID = str(_SCOPED_BY_ID.compile(dialect=asyncpg_dialect()))  # type: ignore[no-untyped-call]


def _view_of_record(record: Record) -> OrderView:
    return view_from(dict(record.items()))


class OrderQueries:
    """The handlers of the order_views queries."""

    async def by_id(self, query: GetOrderById, session: ReadSession) -> OrderView | None:
        scoped = query.customer_id is not None
        if session.statements is not None:
            record = await (
                session.statements.fetchrow(_PG_SCOPED_BY_ID, query.order_id, query.customer_id)
                if scoped
                else session.statements.fetchrow(_PG_BY_ID, query.order_id)
            )
            return None if record is None else _view_of_record(record)
        parameters = {"order_id": query.order_id, "customer_id": query.customer_id}
        async with session.reading() as conn:
            row = (await conn.execute(_SCOPED_BY_ID if scoped else _BY_ID, parameters)).first()
        return None if row is None else view_of(row)

    async def customer_orders(self, query: GetCustomerOrders, session: ReadSession) -> OrderPage:
        conditions = [_c.customer_id == query.customer_id]
        if query.status is not None:
            conditions.append(_status_among_few(query.status))
        newest_first = [_c.created_at.desc(), _c.order_id.desc()]
        return await _page(session, conditions, newest_first, query.page, query.page_size)

    async def search(self, query: SearchOrders, session: ReadSession) -> OrderPage:
        conditions = _filtered(query.filters)
        text = matching(query.query, session.dialect)
        if text is not None:
            conditions.append(text)
        column = _SORT_COLUMNS[query.sort_by]
        if query.sort_order is SortOrder.DESC:
            order = [column.desc(), _c.order_id.desc()]
        else:
            order = [column.asc(), _c.order_id.asc()]
        return await _page(session, conditions, order, query.page, query.page_size)


async def _page(
    session: ReadSession,
    conditions: list[ColumnElement[bool]],
    order: list[Any],
    page: int,
    page_size: int,
) -> OrderPage:
    counted: Select[Any] = select(func.count()).select_from(order_views).where(*conditions)
    listed = (
        select(order_views)
        .where(*conditions)
        .order_by(*order)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    async with session.reading() as conn:
        total = int((await conn.execute(counted)).scalar_one())
        rows = (await conn.execute(listed)).all() if total > (page - 1) * page_size else []
    return OrderPage(
        items=tuple(view_of(row) for row in rows), total=total, page=page, page_size=page_size
    )


def _filtered(filters: OrderFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.status is not None and filters.customer_id is not None:
        conditions.append(_status_among_few(filters.status))
    elif filters.status is not None:
        conditions.append(_c.status == filters.status.value)
    if filters.customer_id is not None:
        conditions.append(_c.customer_id == filters.customer_id)
    if filters.min_total is not None:
        # bounds rounded inward to whole cents: "at least 9.995" is "at least 10.00"
        conditions.append(_c.total_cents >= _whole_cents(filters.min_total, ROUND_CEILING))
    if filters.max_total is not None:
        conditions.append(_c.total_cents <= _whole_cents(filters.max_total, ROUND_FLOOR))
    if filters.created_after is not None:
        conditions.append(_c.created_at >= filters.created_after)
    if filters.created_before is not None:
        conditions.append(_c.created_at < filters.created_before)
    return conditions


def _status_among_few(status: OrderStatus) -> ColumnElement[bool]:
    """The status test for a customer's orders, which are few: `status || ''` is no
    indexed column, so the planner keeps to the customer's index. SQLite plans without
    statistics and would otherwise walk the status index, a third of all orders."""
    return (_c.status + "") == status.value


def _whole_cents(amount: Decimal, rounding: str) -> int:
    return int(amount.scaleb(2).to_integral_value(rounding=rounding))
