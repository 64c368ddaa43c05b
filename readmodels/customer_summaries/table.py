"""The customer_summaries table, and customer_orders: what its projection keeps per order."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, Uuid

from eventstore.database import UtcDateTime
from readmodels.sql import metadata


def customer_summaries_table(name: str = "customer_summaries", into: MetaData = metadata) -> Table:
    """The customer_summaries table under `name`: the live one, or a copy of another
    version's, which gets a MetaData of its own."""
    return Table(
        name,
        into,
        Column("customer_id", Text, primary_key=True),
        Column("order_count", Integer, nullable=False),
        Column("pending_count", Integer, nullable=False),
        Column("shipped_count", Integer, nullable=False),
        Column("cancelled_count", Integer, nullable=False),
        Column("total_spent_cents", BigInteger, nullable=False),
        Column("last_order_at", UtcDateTime),
    )


def customer_orders_table(name: str = "customer_orders", into: MetaData = metadata) -> Table:
    """The events after OrderCreated carry neither the customer nor the total: the
    projection remembers them per order here."""
    return Table(
        name,
        into,
        Column("order_id", Uuid, primary_key=True),
        Column("customer_id", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("total_cents", BigInteger, nullable=False),
    )


customer_summaries = customer_summaries_table()
customer_orders = customer_orders_table()
