"""Relay cursor connections of orders: `edges { cursor node }` and `pageInfo`, as the read
side's cursor pages (readmodels/order_views/connections.py) give them."""

from __future__ import annotations

import strawberry

from readmodels import OrderConnection as OrderConnectionValue
from readmodels import PageWindow
from schema.types import Order


@strawberry.type(description="One order of a connection, with the cursor of its position.")
class OrderEdge:
    cursor: str = strawberry.field(description="Opaque: pass it as `after` or `before`.")
    node: Order


@strawberry.type(description="Whether pages lie beyond this one, and its end cursors.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(
    description="A page of orders by cursor: keyset on the sort key and the order id, so "
    "orders written meanwhile neither repeat nor shift a page."
)
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, connection: OrderConnectionValue) -> OrderConnection:
        edges = [OrderEdge(cursor=e.cursor, node=Order.of(e.node)) for e in connection.edges]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=connection.has_next_page,
                has_previous_page=connection.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def window(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageWindow:
    return PageWindow(first=first, after=after, last=last, before=before)
