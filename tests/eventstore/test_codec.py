"""The codec: stable names, versions and upcasters, independent of any database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from eventstore import EventCodec, UnknownEventType


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    sku: str
    price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Happened:
    id: UUID
    lines: tuple[Line, ...]
    note: str | None
    at: datetime


def codec_with_upcasters() -> EventCodec:
    codec = EventCodec()
    codec.register(Happened, name="Happened", version=3)

    @codec.upcaster("Happened", from_version=1)
    def add_note(data: dict[str, object]) -> dict[str, object]:
        return {**data, "note": None}

    @codec.upcaster("Happened", from_version=2)
    def rename_items(data: dict[str, object]) -> dict[str, object]:
        data["lines"] = data.pop("items")
        return data

    return codec


def test_round_trip_keeps_exact_types() -> None:
    codec = codec_with_upcasters()
    event = Happened(
        id=uuid4(),
        lines=(Line(sku="a", price=Decimal("0.10")),),
        note="x",
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    name, version, data = codec.encode(event)
    assert (name, version) == ("Happened", 3)
    assert data["lines"] == [{"sku": "a", "price": "0.10"}]
    assert codec.decode(name, version, data) == event


def test_old_versions_are_upcast_step_by_step() -> None:
    codec = codec_with_upcasters()
    old = {
        "id": str(uuid4()),
        "items": [{"sku": "a", "price": "1"}],
        "at": "2026-01-01T00:00:00+00:00",
    }
    event = codec.decode("Happened", 1, old)
    assert event.lines == (Line(sku="a", price=Decimal("1")),)
    assert event.note is None


@pytest.mark.parametrize(("name", "version"), [("Nope", 1), ("Happened", 4)])
def test_unknown_types_and_future_versions_are_refused(name: str, version: int) -> None:
    with pytest.raises(UnknownEventType):
        codec_with_upcasters().decode(name, version, {})


def test_a_class_registers_once() -> None:
    codec = codec_with_upcasters()
    with pytest.raises(ValueError, match="twice"):
        codec.register(Happened, name="Other")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    amount: Decimal
    note: str = "none"

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("negative")


def test_defaults_and_post_init_checks_still_apply_when_decoding() -> None:
    codec = EventCodec()
    codec.register(Checked, name="Checked")

    assert codec.decode("Checked", 1, {"amount": "1.5"}) == Checked(amount=Decimal("1.5"))
    with pytest.raises(ValueError, match="negative"):
        codec.decode("Checked", 1, {"amount": "-1"})


def test_a_missing_field_is_refused() -> None:
    with pytest.raises(TypeError, match="note"):
        codec_with_upcasters().decode(
            "Happened", 3, {"id": str(uuid4()), "lines": [], "at": "2026-01-01T00:00:00+00:00"}
        )
