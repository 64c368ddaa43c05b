"""The query on customer_summaries: one customer's figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select

from readmodels.customer_summaries.table import customer_summaries
from readmodels.querying.query_bus import Query
from readmodels.querying.read_session import ReadSession
from readmodels.results import CustomerSummaryView
from readmodels.sql import money


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCustomerSummary(Query[CustomerSummaryView | None]):
    reads: ClassVar[tuple[str, ...]] = ("customer_summaries",)
    customer_id: str


class CustomerSummaryQueries:
    async def summary(
        self, query: GetCustomerSummary, session: ReadSession
    ) -> CustomerSummaryView | None:
        statement = select(customer_summaries).where(
            customer_summaries.c.customer_id == query.customer_id
        )
        async with session.reading() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            return None
        return CustomerSummaryView(
            customer_id=row.customer_id,
            order_count=row.order_count,
            pending_count=row.pending_count,
            shipped_count=row.shipped_count,
            cancelled_count=row.cancelled_count,
            total_spent=money(row.total_spent_cents),
            last_order_at=row.last_order_at,
        )
