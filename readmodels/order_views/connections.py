"""Cursor pages (Relay connections) of a customer's orders and of search: keyset on the sort
key plus order id, beside the page/offset queries of queries.py.

A page is `first` orders after a cursor (or `last` before one), found by an index on (sort
key, order_id) (migration 0002), so it costs the same deep in a listing as at its start
and an order written meanwhile shifts no page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import literal, select, tuple_
from sqlalchemy.sql import ColumnElement

from readmodels.errors import InvalidQuery
from readmodels.order_views.cursors import Cursor
from readmodels.order_views.queries import (
    _SORT_COLUMNS,
    MAX_PAGE_SIZE,
    MAX_SEARCH_LENGTH,
    OrderFilter,
    OrderSortField,
    SortOrder,
    _filtered,
    _status_among_few,
)
from readmodels.order_views.search import matching
from readmodels.order_views.table import order_views, view_of
from readmodels.querying.query_bus import Query
from readmodels.querying.read_session import ReadSession
from readmodels.results import OrderStatus, OrderView

DEFAULT_FIRST = 20
_c = order_views.c
# the sort key's column as it is stored (total_amount as whole cents)
_KEY_NAMES = {
    OrderSortField.CREATED_AT: "created_at",
    OrderSortField.UPDATED_AT: "updated_at",
    OrderSortField.TOTAL_AMOUNT: "total_cents",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PageWindow:
    """Which page: `first` after `after`, or `last` before `before` (cursors as given)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def check(self) -> None:
        if self.first is not None and self.last is not None:
            raise InvalidQuery("ask for first or last, not both", "last")
        if self.last is None and self.before is not None:
            raise InvalidQuery("before pages backwards: give last with it", "before")
        if self.last is not None and self.after is not None:
            raise InvalidQuery("after pages forwards: give first with it", "after")
        for name in ("first", "last"):
            size = getattr(self, name)
            if size is not None and not 1 <= size <= MAX_PAGE_SIZE:
                raise InvalidQuery(f"{name} must be between 1 and {MAX_PAGE_SIZE}", name)

    @property
    def backwards(self) -> bool:
        return self.last is not None


@dataclass(frozen=True, slots=True)
class OrderEdge:
    cursor: str
    node: OrderView


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderConnection:
    edges: tuple[OrderEdge, ...]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCustomerOrderConnection(Query[OrderConnection]):
    """A customer's orders, newest first, a cursor page at a time."""

    reads: ClassVar[tuple[str, ...]] = ("order_views",)
    customer_id: str
    status: OrderStatus | None = None
    window: PageWindow = field(default_factory=PageWindow)

    def check(self) -> None:
        self.window.check()


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchOrderConnection(Query[OrderConnection]):
    """searchOrders' matches, a cursor page at a time."""

    reads: ClassVar[tuple[str, ...]] = ("order_views",)
    query: str
    filters: OrderFilter = field(default_factory=OrderFilter)
    sort_by: OrderSortField = OrderSortField.CREATED_AT
    sort_order: SortOrder = SortOrder.DESC
    window: PageWindow = field(default_factory=PageWindow)

    def check(self) -> None:
        self.window.check()
        if len(self.query) > MAX_SEARCH_LENGTH:
            raise InvalidQuery(f"query is longer than {MAX_SEARCH_LENGTH} characters", "query")


class OrderConnectionQueries:
    """The handlers of the cursor-page queries."""

    async def customer_orders(
        self, query: GetCustomerOrderConnection, session: ReadSession
    ) -> OrderConnection:
        conditions = [_c.customer_id == query.customer_id]
        if query.status is not None:
            conditions.append(_status_among_few(query.status))
        return await _connection(
            session, conditions, OrderSortField.CREATED_AT, SortOrder.DESC, query.window
        )

    async def search(self, query: SearchOrderConnection, session: ReadSession) -> OrderConnection:
        conditions = _filtered(query.filters)
        text = matching(query.query, session.dialect)
        if text is not None:
            conditions.append(text)
        return await _connection(session, conditions, query.sort_by, query.sort_order, query.window)


async def _connection(
    session: ReadSession,
    conditions: list[ColumnElement[bool]],
    sort_by: OrderSortField,
    sort_order: SortOrder,
    window: PageWindow,
) -> OrderConnection:
    column = _SORT_COLUMNS[sort_by]
    cursor_text, field_name = (
        (window.before, "before") if window.backwards else (window.after, "after")
    )
    cursor = None if cursor_text is None else Cursor.decode(cursor_text, sort_by, field_name)
    size = window.last if window.last is not None else window.first or DEFAULT_FIRST
    # walking backwards reads the listing's reverse order from the cursor, then turns it round
    descending = (sort_order is SortOrder.DESC) != window.backwards
    keys = tuple_(column, _c.order_id)
    listed = select(order_views).where(*conditions)
    if cursor is not None:
        # typed as their columns: SQLite stores times as its UtcDateTime type writes them
        position = tuple_(
            literal(cursor.key, column.type), literal(cursor.order_id, _c.order_id.type)
        )
        listed = listed.where(keys < position if descending else keys > position)
    order: list[Any] = (
        [column.desc(), _c.order_id.desc()] if descending else [column.asc(), _c.order_id.asc()]
    )
    async with session.reading() as conn:
        rows = list((await conn.execute(listed.order_by(*order).limit(size + 1))).all())
    more = len(rows) > size
    rows = rows[:size]
    if window.backwards:
        rows.reverse()
    key_name = _KEY_NAMES[sort_by]
    edges = tuple(
        OrderEdge(
            cursor=Cursor(
                sort=sort_by, key=row._mapping[key_name], order_id=row._mapping["order_id"]
            ).encode(),
            node=view_of(row),
        )
        for row in rows
    )
    # the cursor's own order exists (rows are never deleted): there is a page on its side
    return OrderConnection(
        edges=edges,
        has_next_page=cursor is not None if window.backwards else more,
        has_previous_page=more if window.backwards else cursor is not None,
    )
