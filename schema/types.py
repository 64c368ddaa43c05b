"""GraphQL object types of the contract, each built from a read-side view."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from handlers.events import Address as AddressValue
from handlers.events import OrderLine
from readmodels import (
    BuildStatus as BuildStatusView,
)
from readmodels import (
    CustomerSummaryView,
    OrderView,
)
from readmodels import (
    OrderPage as OrderPageView,
)
from readmodels import (
    OrderStatus as OrderStatusValue,
)
from readmodels import (
    ProjectionState as ProjectionStateValue,
)
from readmodels import (
    ProjectionStatus as ProjectionStatusView,
)
from schema.context import Info
from schema.scalars import BigInt

OrderStatus = strawberry.enum(OrderStatusValue, name="OrderStatus")
ProjectionState = strawberry.enum(
    ProjectionStateValue,
    name="ProjectionState",
    description="Where a projection stands.",
)


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str

    @classmethod
    def of(cls, address: AddressValue) -> Address:
        return cls(
            name=address.name,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postal_code=address.postal_code,
            country=address.country,
        )


@strawberry.type
class OrderItem:
    product_id: strawberry.ID
    quantity: int
    unit_price: Decimal
    line_total: Decimal

    @classmethod
    def of(cls, line: OrderLine) -> OrderItem:
        return cls(
            product_id=strawberry.ID(line.product_id),
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
        )


@strawberry.type(description="Denormalized read model of one order (the order_views table).")
class Order:
    id: strawberry.ID
    customer_id: strawberry.ID
    status: OrderStatus  # type: ignore[valid-type]
    items: list[OrderItem]
    item_count: int = strawberry.field(description="Sum of item quantities.")
    total_amount: Decimal
    shipping_address: Address
    created_at: datetime
    updated_at: datetime
    shipped_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    version: int = strawberry.field(
        description="Version of the order's event stream that this view reflects."
    )

    @classmethod
    def of(cls, view: OrderView) -> Order:
        return cls(
            id=strawberry.ID(str(view.id)),
            customer_id=strawberry.ID(view.customer_id),
            status=view.status,
            items=[OrderItem.of(line) for line in view.items],
            item_count=view.item_count,
            total_amount=view.total_amount,
            shipping_address=Address.of(view.shipping_address),
            created_at=view.created_at,
            updated_at=view.updated_at,
            shipped_at=view.shipped_at,
            carrier=view.carrier,
            tracking_number=view.tracking_number,
            cancelled_at=view.cancelled_at,
            cancellation_reason=view.cancellation_reason,
            version=view.version,
        )


@strawberry.type
class OrderPage:
    items: list[Order]
    total: int
    page: int
    page_size: int
    total_pages: int

    @classmethod
    def of(cls, page: OrderPageView) -> OrderPage:
        return cls(
            items=[Order.of(view) for view in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
            total_pages=page.total_pages,
        )


@strawberry.type(description="Denormalized per-customer figures (the customer_summaries table).")
class CustomerSummary:
    customer_id: strawberry.ID
    order_count: int
    pending_count: int
    shipped_count: int
    cancelled_count: int
    total_spent: Decimal = strawberry.field(
        description="Sum of totalAmount over orders that are not cancelled."
    )
    last_order_at: datetime | None

    @classmethod
    def of(cls, view: CustomerSummaryView) -> CustomerSummary:
        return cls(
            customer_id=strawberry.ID(view.customer_id),
            order_count=view.order_count,
            pending_count=view.pending_count,
            shipped_count=view.shipped_count,
            cancelled_count=view.cancelled_count,
            total_spent=view.total_spent,
            last_order_at=view.last_order_at,
        )


@strawberry.type
class ProjectionStatus:
    name: str
    position: BigInt = strawberry.field(
        description="Global position of the last event this projection has applied."
    )
    head_position: BigInt = strawberry.field(
        description="Global position of the last event in the log."
    )
    lag: BigInt = strawberry.field(
        description="headPosition - position: 0 when caught up. Positions are ordered but need "
        "not be dense, so this is a distance, not an event count."
    )
    state: ProjectionState  # type: ignore[valid-type]
    last_error: str | None
    updated_at: datetime | None
    version: int = strawberry.field(
        description="The version of the projection's code whose tables answer queries."
    )
    build: ProjectionBuild | None = strawberry.field(
        description="A build of another version of the projection beside its live tables, "
        "under way or failed; the live version keeps serving until the build switches in. "
        "Null when there is none, and in projectionUpdates messages (query projections)."
    )

    @strawberry.field(
        description="The version this server's code declares. Above version: the server is "
        "building its version (see build). Below: a newer version is live, and this server "
        "no longer applies events to it (a rolling deploy replacing it)."
    )
    def code_version(self, info: Info) -> int:
        return info.context.code_version(self.name)

    @classmethod
    def of(cls, status: ProjectionStatusView, *, with_error: bool = True) -> ProjectionStatus:
        """`with_error` False hides lastError, internal text that only staff may read."""
        return cls(
            name=status.name,
            position=BigInt(status.position),
            head_position=BigInt(status.head_position),
            lag=BigInt(status.lag),
            state=status.state,
            last_error=status.last_error if with_error else None,
            updated_at=status.updated_at,
            version=status.version,
            build=None if status.build is None else ProjectionBuild.of(status.build, with_error),
        )


@strawberry.type(
    description="A shadow build: a version of a projection built from the log into tables "
    "beside the live ones (cqrs-orders rebuild, or a deploy of a newer version)."
)
class ProjectionBuild:
    version: int = strawberry.field(description="The version being built.")
    position: BigInt = strawberry.field(description="Global position the build has applied.")
    head_position: BigInt = strawberry.field(
        description="Global position of the last event in the log."
    )
    state: ProjectionState  # type: ignore[valid-type]
    last_error: str | None = strawberry.field(
        description="Why the build stopped (staff only); the live version is untouched."
    )
    started_at: datetime | None = strawberry.field(
        description="When the process building it started or resumed."
    )
    updated_at: datetime = strawberry.field(description="When it last committed a window.")
    events_per_second: float | None = strawberry.field(
        description="Positions applied per second since startedAt (positions may have gaps, "
        "so about events/s); null before the first window."
    )
    eta_seconds: float | None = strawberry.field(
        description="Seconds to reach the head at that rate; null when failed or not known yet."
    )

    @classmethod
    def of(cls, build: BuildStatusView, with_error: bool) -> ProjectionBuild:
        return cls(
            version=build.version,
            position=BigInt(build.position),
            head_position=BigInt(build.head_position),
            state=build.state,
            last_error=build.last_error if with_error else None,
            started_at=build.started_at,
            updated_at=build.updated_at,
            events_per_second=build.events_per_second,
            eta_seconds=build.eta_seconds,
        )


@strawberry.type
class ConsistencyUpdate:
    position: BigInt = strawberry.field(description="The position awaited.")
    reached: bool = strawberry.field(
        description="True once every awaited projection has applied position."
    )
    timed_out: bool = strawberry.field(description="True when timeoutMs passed first.")
    projections: list[ProjectionStatus]
