"""What queries return: plain frozen dataclasses with exact money and aware UTC times."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from handlers.events import Address, OrderLine


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class ProjectionState(enum.StrEnum):
    RUNNING = "RUNNING"
    REBUILDING = "REBUILDING"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """One order as the order_views table holds it (also the projection's fold state)."""

    id: UUID
    customer_id: str
    status: OrderStatus
    items: tuple[OrderLine, ...]
    shipping_address: Address
    created_at: datetime
    updated_at: datetime
    shipped_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    version: int
    last_position: int

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.items)

    @property
    def total_amount(self) -> Decimal:
        return sum((line.line_total for line in self.items), Decimal("0.00"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPage:
    items: tuple[OrderView, ...]
    total: int
    page: int
    page_size: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.page_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerSummaryView:
    customer_id: str
    order_count: int
    pending_count: int
    shipped_count: int
    cancelled_count: int
    total_spent: Decimal
    last_order_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionStatus:
    """Where a projection stands; `lag` is a distance in positions, not an event count."""

    name: str
    position: int
    head_position: int
    state: ProjectionState
    last_error: str | None
    updated_at: datetime | None
    # the checkpoint row's change counter: of two statuses, the higher revision is newer
    # (0: not read from the table, unordered)
    revision: int = 0
    # the version of the projection's code whose tables are live
    version: int = 1

    @property
    def lag(self) -> int:
        return max(0, self.head_position - self.position)
