"""The order_views table and the conversion between its rows and OrderView."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, Uuid

from eventstore.database import UtcDateTime
from handlers.events import Address, OrderLine
from readmodels.results import OrderStatus, OrderView
from readmodels.sql import EncodedJson, Row, cents, metadata


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
        Column("items", EncodedJson, nullable=False),
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
    """What searchOrders matches: each field `searchable`, a newline between them, which
    `searchable` takes out of any query, so that no match spans two of them.

    Built as `searchable` of each field would, at less cost (the rows' main one in a
    rebuild): lower case once over the whole text, which is the same since a newline is
    neither cased nor case-ignorable; the id is already lower case without spaces."""
    address = view.shipping_address
    fields = [
        view.customer_id,
        *[line.product_id for line in view.items],
        address.name,
        address.city,
        address.postal_code,
        address.country,
    ]
    return "\n".join([str(view.id), *[" ".join(field.split()) for field in fields]]).lower()


_encode_json = msgspec.json.Encoder().encode

# the columns of a row as row_values gives them
COLUMNS = tuple(column.name for column in order_views.columns)


def row_values(view: OrderView) -> tuple[Any, ...]:
    """The row of a view, its values in the order of COLUMNS."""
    address = view.shipping_address
    return (
        view.id,
        view.customer_id,
        view.status.value,
        # [{"product_id", "quantity", "unit_price"}], the price a string of its exact
        # Decimal, as view_from reads them
        _encode_json(view.items).decode(),
        view.item_count,
        cents(view.total_amount),
        address.name,
        address.line1,
        address.line2,
        address.city,
        address.postal_code,
        address.country,
        view.created_at,
        view.updated_at,
        view.shipped_at,
        view.carrier,
        view.tracking_number,
        view.cancelled_at,
        view.cancellation_reason,
        view.version,
        view.last_position,
        search_text(view),
    )


def row_of(view: OrderView) -> Row:
    return dict(zip(COLUMNS, row_values(view), strict=True))


def view_of(row: Any) -> OrderView:
    """The view of a row of a query (a SQLAlchemy Row)."""
    return view_from(row._mapping)


def view_from(row: Mapping[str, Any]) -> OrderView:
    """The view of a row as a mapping of column name to value."""
    return OrderView(
        id=row["order_id"],
        customer_id=row["customer_id"],
        status=OrderStatus(row["status"]),
        items=_lines(row["items"]),
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


_decode_lines = msgspec.json.Decoder(tuple[OrderLine, ...]).decode


def _lines(items: str | list[dict[str, Any]]) -> tuple[OrderLine, ...]:
    """The items column as SQLAlchemy reads it (parsed), or as its JSON text: as written
    and kept by the runner's row cache (readmodels/held_rows.py), or read by bare asyncpg."""
    if isinstance(items, str):
        return _decode_lines(items)
    return tuple(
        OrderLine(
            product_id=item["product_id"],
            quantity=item["quantity"],
            unit_price=Decimal(item["unit_price"]),
        )
        for item in items
    )
