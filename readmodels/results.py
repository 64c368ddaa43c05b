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


_NO_MONEY = Decimal("0.00")


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
        return sum((line.line_total for line in self.items), _NO_MONEY)


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
    # a build beside the live tables (a rebuild, or a newer version), under way or FAILED
    # (when asked for: statuses pushed to subscribers leave it out)
    build: BuildStatus | None = None

    @property
    def lag(self) -> int:
        return max(0, self.head_position - self.position)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildStatus:
    """A shadow build of a projection's version beside its live tables. Its rate counts
    positions (not quite events: positions may have gaps) since the process building it
    started or resumed, up to its last committed window."""

    version: int
    position: int
    head_position: int
    state: ProjectionState
    last_error: str | None
    started_at: datetime | None
    started_position: int | None
    updated_at: datetime

    @property
    def events_per_second(self) -> float | None:
        """None until the building process has committed a window."""
        if self.started_at is None or self.started_position is None:
            return None
        seconds = (self.updated_at - self.started_at).total_seconds()
        done = self.position - self.started_position
        return done / seconds if seconds > 0 and done > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Time to reach the head at the rate so far; None when failed or not yet known."""
        rate = self.events_per_second
        if rate is None or self.state is ProjectionState.FAILED:
            return None
        return max(0, self.head_position - self.position) / rate
