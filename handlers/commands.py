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
    every attempt, so they are left out: a retry differs in them harmlessly. The digest is
    stored with the command, so its canonical form must never change.
    """
    asked = {name: _plain(getattr(command, name)) for name in _ASKED[type(command)]}
    canonical = _CANONICAL.encode([type(command).__name__, asked])
    return hashlib.sha256(canonical.encode()).hexdigest()


_CHOSEN_BY_SERVICE: dict[type, frozenset[str]] = {
    CreateOrder: frozenset({"command_id", "timestamp", "order_id"}),
    AddOrderItem: frozenset({"command_id", "timestamp"}),
    RemoveOrderItem: frozenset({"command_id", "timestamp"}),
    ShipOrder: frozenset({"command_id", "timestamp"}),
    CancelOrder: frozenset({"command_id", "timestamp"}),
}
# json.dumps(..., sort_keys=True, default=str), without building an encoder per call
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)
# the fields that make each command's fingerprint
_ASKED: dict[type, tuple[str, ...]] = {
    command_type: tuple(f.name for f in dataclasses.fields(command_type) if f.name not in chosen)
    for command_type, chosen in _CHOSEN_BY_SERVICE.items()
}


def _plain(value: object) -> object:
    """What `dataclasses.asdict` makes of a field, without its deep copies (which cost as
    much as the rest of handling a command): dataclasses as dicts, tuples of them as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value
