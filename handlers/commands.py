"""Commands: what a client asks the order service to do, one dataclass each."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from handlers.events import Address, OrderLine


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateOrder:
    """Open a new pending order; the service chooses its id."""

    customer_id: str
    items: tuple[OrderLine, ...]
    shipping_address: Address
    order_id: UUID = field(default_factory=uuid4)
    command_id: UUID = field(default_factory=uuid4)
    timestamp: datetime = field(default_factory=_now)
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrderItem:
    """Add some quantity of one product to a pending order."""

    order_id: UUID
    product_id: str
    quantity: int
    unit_price: Decimal
    command_id: UUID = field(default_factory=uuid4)
    timestamp: datetime = field(default_factory=_now)
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveOrderItem:
    """Take the whole line of one product off a pending order."""

    order_id: UUID
    product_id: str
    command_id: UUID = field(default_factory=uuid4)
    timestamp: datetime = field(default_factory=_now)
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipOrder:
    order_id: UUID
    carrier: str
    tracking_number: str
    command_id: UUID = field(default_factory=uuid4)
    timestamp: datetime = field(default_factory=_now)
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    order_id: UUID
    reason: str
    command_id: UUID = field(default_factory=uuid4)
    timestamp: datetime = field(default_factory=_now)
    expected_version: int | None = None


OrderCommand = CreateOrder | AddOrderItem | RemoveOrderItem | ShipOrder | CancelOrder


def fingerprint(command: OrderCommand) -> str:
    """A digest of what the command asks, to tell a true retry from a reused command id.

    The service picks command_id's companions (timestamp, a new order's id) afresh on
    every attempt, so they are left out: a retry differs in them harmlessly.
    """
    chosen_by_service = {"command_id", "timestamp"}
    if isinstance(command, CreateOrder):
        chosen_by_service.add("order_id")
    asked = {
        name: value
        for name, value in dataclasses.asdict(command).items()
        if name not in chosen_by_service
    }
    canonical = json.dumps([type(command).__name__, asked], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
