"""The order_views table and the conversion between its rows and OrderView."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, String, Table, Text, Uuid

from eventstore.database import UtcDateTime
from handlers.events import Address, OrderLine
from readmodels.results import OrderStatus, OrderView
from readmodels.sql import Row, cents, metadata


def order_views_table(name: str = "order_views", into: MetaData = metadata) -> Table:
    """The order_views table under `name`: the live one, or a copy of another version's,
    which gets a MetaData of its own.

    On SQLite the live table also has row_id, the key of its full-text index (see the
    migration); no query names it."""
    return Table(
        name,
        into,
        Column("order_id", Uuid, primary_key=True),
        Column("customer_id", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("items", JSON, nullable=False),
        Column("item_count", Integer, nullable=False),
        Column("total_cents", BigInteger, nullable=False),
        Column("ship_name", Text, nullable=False),
        Column("ship_line1", Text, nullable=False),
        Column("ship_line2", Text),
        Column("ship_city", Text, nullable=False),
        Column("ship_postal_code", Text, nullable=False),
        Column("ship_country", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("shipped_at", UtcDateTime),
        Column("carrier", Text),
        Column("tracking_number", Text),
        Column("cancelled_at", UtcDateTime),
        Column("cancellation_reason", Text),
        Column("version", Integer, nullable=False),
        Column("last_position", BigInteger, nullable=False),
        Column("search_text", Text, nullable=False),
    )


order_views = order_views_table()


def searchable(text: str) -> str:
    """Text as search stores and matches it: lower case, each run of spaces one space."""
    return " ".join(text.lower().split())


def search_text(view: OrderView) -> str:
    """What searchOrders matches. A newline between fields, which `searchable` takes out
    of any query, keeps a match from spanning two of them."""
    address = view.shipping_address
    fields = [
        str(view.id),
        view.customer_id,
        *(line.product_id for line in view.items),
        address.name,
        address.city,
        address.postal_code,
        address.country,
    ]
    return "\n".join(searchable(field) for field in fields)


def row_of(view: OrderView) -> Row:
    address = view.shipping_address
    return {
        "order_id": view.id,
        "customer_id": view.customer_id,
        "status": view.status.value,
        "items": [
            {
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
            }
            for line in view.items
        ],
        "item_count": view.item_count,
        "total_cents": cents(view.total_amount),
        "ship_name": address.name,
        "ship_line1": address.line1,
        "ship_line2": address.line2,
        "ship_city": address.city,
        "ship_postal_code": address.postal_code,
        "ship_country": address.country,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
        "shipped_at": view.shipped_at,
        "carrier": view.carrier,
        "tracking_number": view.tracking_number,
        "cancelled_at": view.cancelled_at,
        "cancellation_reason": view.cancellation_reason,
        "version": view.version,
        "last_position": view.last_position,
        "search_text": search_text(view),
    }


def view_of(row: Any) -> OrderView:
    """The view of a row of a query (a SQLAlchemy Row)."""
    return view_from(row._mapping)


def view_from(row: Mapping[str, Any]) -> OrderView:
    return OrderView(
        id=row["order_id"],
        customer_id=row["customer_id"],
        status=OrderStatus(row["status"]),
        items=tuple(
            OrderLine(
                product_id=item["product_id"],
                quantity=item["quantity"],
                unit_price=Decimal(item["unit_price"]),
            )
            for item in row["items"]
        ),
        shipping_address=Address(
            name=row["ship_name"],
            line1=row["ship_line1"],
            line2=row["ship_line2"],
            city=row["ship_city"],
            postal_code=row["ship_postal_code"],
            country=row["ship_country"],
        ),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        shipped_at=row["shipped_at"],
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        cancelled_at=row["cancelled_at"],
        cancellation_reason=row["cancellation_reason"],
        version=row["version"],
        last_position=row["last_position"],
    )
