"""The customer_summaries table, and customer_orders: what its projection keeps per order."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, Uuid

from eventstore.database import UtcDateTime
from readmodels.sql import metadata

customer_summaries = Table(
    "customer_summaries",
    metadata,
    Column("customer_id", Text, primary_key=True),
    Column("order_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("shipped_count", Integer, nullable=False),
    Column("cancelled_count", Integer, nullable=False),
    Column("total_spent_cents", BigInteger, nullable=False),
    Column("last_order_at", UtcDateTime),
)

# the events after OrderCreated carry neither the customer nor the total
customer_orders = Table(
    "customer_orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total_cents", BigInteger, nullable=False),
)
