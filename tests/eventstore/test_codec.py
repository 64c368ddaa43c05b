"""The codec: stable names, versions and upcasters, independent of any database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventstore import EventCodec, UnknownEventType, UtcDateTime


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    sku: str
    price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Happened:
    id: UUID
    lines: tuple[Line, ...]
    note: str | None
    at: UtcDateTime


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


HAPPENED = Happened(
    id=uuid4(),
    lines=(Line(sku="a", price=Decimal("0.10")), Line(sku="b", price=Decimal("1E+3"))),
    note="x",
    at=datetime(2026, 1, 1, 12, 30, 1, 5, tzinfo=UTC),
)


def stored(data: dict[str, Any]) -> str:
    """The payload as the log keeps it: JSON text."""
    return json.dumps(data)


def test_round_trip_keeps_exact_types() -> None:
    codec = codec_with_upcasters()
    name, version, data = codec.encode(HAPPENED)
    assert (name, version) == ("Happened", 3)
    # amounts are JSON strings, never floats, so that no amount goes through a float
    assert json.loads(stored(data))["lines"] == [
        {"sku": "a", "price": "0.10"},
        {"sku": "b", "price": "1E+3"},
    ]

    for event in (
        codec.decode(name, version, data),
        codec.decode_json(name, version, stored(data)),
    ):
        assert event == HAPPENED
        assert [type(line.price) for line in event.lines] == [Decimal, Decimal]
        assert str(event.lines[0].price) == "0.10"  # the exponent is kept
        assert event.at.utcoffset() is not None and event.at.utcoffset().total_seconds() == 0


def test_old_versions_are_upcast_step_by_step() -> None:
    codec = codec_with_upcasters()
    old = {
        "id": str(uuid4()),
        "items": [{"sku": "a", "price": "1"}],
        "at": "2026-01-01T00:00:00+00:00",
    }
    for event in (codec.decode("Happened", 1, old), codec.decode_json("Happened", 1, stored(old))):
        assert event.lines == (Line(sku="a", price=Decimal("1")),)
        assert event.note is None
        assert event.at == datetime(2026, 1, 1, tzinfo=UTC)
    assert "items" in old, "the caller's object is left as it was"


@pytest.mark.parametrize(("name", "version"), [("Nope", 1), ("Happened", 4)])
def test_unknown_types_and_future_versions_are_refused(name: str, version: int) -> None:
    codec = codec_with_upcasters()
    with pytest.raises(UnknownEventType):
        codec.decode(name, version, {})
    # before the payload is even parsed
    with pytest.raises(UnknownEventType):
        codec.decode_json(name, version, "not JSON")


def test_a_version_without_its_upcaster_is_refused() -> None:
    codec = EventCodec()
    codec.register(Happened, name="Happened", version=2)
    with pytest.raises(UnknownEventType, match="no upcaster from Happened v1"):
        codec.decode_json("Happened", 1, "{}")


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
    assert codec.decode_json("Checked", 1, '{"amount": "1.5"}') == Checked(amount=Decimal("1.5"))
    with pytest.raises(ValueError, match="negative"):
        codec.decode("Checked", 1, {"amount": "-1"})
    with pytest.raises(ValueError, match="negative"):
        codec.decode_json("Checked", 1, '{"amount": "-1"}')


def test_a_missing_field_is_refused_by_name() -> None:
    data = {"id": str(uuid4()), "lines": [], "at": "2026-01-01T00:00:00+00:00"}
    codec = codec_with_upcasters()
    with pytest.raises(ValueError, match=r"Happened v3 .*`note`"):
        codec.decode("Happened", 3, data)
    with pytest.raises(ValueError, match=r"Happened v3 .*`note`"):
        codec.decode_json("Happened", 3, stored(data))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"at": "2026-01-01T00:00:00"}, "timezone"),  # a naive time
        ({"id": "not a uuid"}, r"\$\.id"),
        ({"lines": [{"sku": "a", "price": "ten"}]}, r"\$\.lines\[0\]\.price"),
        ({"lines": [{"sku": 7, "price": "1"}]}, r"\$\.lines\[0\]\.sku"),
    ],
)
def test_a_malformed_field_is_refused_with_its_place(change: dict[str, Any], where: str) -> None:
    _, _, data = codec_with_upcasters().encode(HAPPENED)
    bad = {**data, **change}
    codec = codec_with_upcasters()
    with pytest.raises(ValueError, match=f"Happened v3 does not decode: .*{where}"):
        codec.decode("Happened", 3, bad)
    with pytest.raises(ValueError, match=f"Happened v3 does not decode: .*{where}"):
        codec.decode_json("Happened", 3, stored(bad))


def test_malformed_json_is_refused() -> None:
    with pytest.raises(ValueError, match="Happened v3 does not decode"):
        codec_with_upcasters().decode_json("Happened", 3, '{"id": ')


@dataclass(frozen=True, slots=True, kw_only=True)
class Naive:
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NaiveInside:
    lines: tuple[Naive, ...] | None


@pytest.mark.parametrize(
    ("cls", "where"), [(Naive, "Naive.at"), (NaiveInside, "NaiveInside.lines.at")]
)
def test_a_class_whose_times_may_be_naive_is_refused(cls: type[Any], where: str) -> None:
    with pytest.raises(TypeError, match=f"{where} .*UtcDateTime"):
        EventCodec().register(cls, name="Naive")


def test_an_event_that_would_not_read_back_is_not_encoded() -> None:
    naive = Happened(id=uuid4(), lines=(), note=None, at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match=r"Happened would not decode: .*timezone"):
        codec_with_upcasters().encode(naive)
