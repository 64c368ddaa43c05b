"""The codec: stable names, versions and upcasters, independent of any database."""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventstore import EventCodec, LoggedEvent, UnknownEventType, UtcDateTime


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


def logged(name: str, version: int, text: str, position: int = 1) -> LoggedEvent:
    """An event as read_log returns it."""
    return LoggedEvent(
        position=position,
        stream_id="stream",
        version=position,
        event_type=name,
        schema_version=version,
        data_json=text,
    )


def decode_text(codec: EventCodec, name: str, version: int, text: str) -> Any:
    (event,) = codec.decode_log([logged(name, version, text)])
    return event


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
        decode_text(codec, name, version, stored(data)),
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
    for event in (codec.decode("Happened", 1, old), decode_text(codec, "Happened", 1, stored(old))):
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
        decode_text(codec, name, version, "not JSON")


def test_a_version_without_its_upcaster_is_refused() -> None:
    codec = EventCodec()
    codec.register(Happened, name="Happened", version=2)
    with pytest.raises(UnknownEventType, match="no upcaster from Happened v1"):
        decode_text(codec, "Happened", 1, "{}")


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
    assert decode_text(codec, "Checked", 1, '{"amount": "1.5"}') == Checked(amount=Decimal("1.5"))
    with pytest.raises(ValueError, match="negative"):
        codec.decode("Checked", 1, {"amount": "-1"})
    with pytest.raises(ValueError, match="negative"):
        decode_text(codec, "Checked", 1, '{"amount": "-1"}')


def test_a_missing_field_is_refused_by_name() -> None:
    data = {"id": str(uuid4()), "lines": [], "at": "2026-01-01T00:00:00+00:00"}
    codec = codec_with_upcasters()
    with pytest.raises(ValueError, match=r"Happened v3 .*`note`"):
        codec.decode("Happened", 3, data)
    with pytest.raises(ValueError, match=r"Happened v3 .*`note`"):
        decode_text(codec, "Happened", 3, stored(data))


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
        decode_text(codec, "Happened", 3, stored(bad))


def test_malformed_json_is_refused() -> None:
    with pytest.raises(ValueError, match="Happened v3 does not decode"):
        decode_text(codec_with_upcasters(), "Happened", 3, '{"id": ')


def test_a_batch_decodes_in_order_whatever_its_versions() -> None:
    codec = codec_with_upcasters()
    current = stored(codec.encode(HAPPENED)[2])
    old = stored({"id": str(HAPPENED.id), "items": [], "at": "2026-01-01T00:00:00Z"})
    batch = [
        logged("Happened", version, text, position)
        for position, (version, text) in enumerate([(3, current), (1, old), (3, current)], 1)
    ]
    upcast = Happened(id=HAPPENED.id, lines=(), note=None, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert codec.decode_log(batch) == [HAPPENED, upcast, HAPPENED]
    assert codec.decode_log([]) == []


def test_a_decoder_found_before_an_upcaster_was_added_is_not_kept() -> None:
    codec = EventCodec()
    codec.register(Happened, name="Happened", version=2)
    text = stored({"id": str(uuid4()), "lines": [], "note": None, "at": "2026-01-01T00:00:00Z"})
    with pytest.raises(UnknownEventType):
        decode_text(codec, "Happened", 1, text)

    @codec.upcaster("Happened", from_version=1)
    def same(data: dict[str, object]) -> dict[str, object]:
        return data

    assert decode_text(codec, "Happened", 1, text).note is None


def test_the_event_that_does_not_decode_is_named_in_its_batch() -> None:
    codec = codec_with_upcasters()
    good = stored(codec.encode(HAPPENED)[2])
    batch = [logged("Happened", 3, good, 1), logged("Happened", 1, '{"id": 7, "items": []}', 2)]
    with pytest.raises(ValueError, match=r"Happened v1 does not decode: .*\$\.id"):
        codec.decode_log(batch)
    with pytest.raises(UnknownEventType, match="Nope"):
        codec.decode_log([logged("Happened", 3, good, 1), logged("Nope", 1, good, 2)])


def test_the_collector_waits_until_a_batch_is_decoded() -> None:
    """A batch's events are kept by the caller: collections in the middle of the batch
    would only move them on to older generations (codec.decode_log)."""
    codec = codec_with_upcasters()
    text = stored(codec.encode(HAPPENED)[2])
    batch = [logged("Happened", 3, text, position) for position in range(1, 5001)]
    collections: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(note)
    try:
        decoded = codec.decode_log(batch)
        during = len(collections)  # read before anything allocates: a collection may follow
        with pytest.raises(ValueError):
            codec.decode_log([*batch, logged("Happened", 3, "{}", 5001)])
    finally:
        gc.callbacks.remove(note)
    assert during == 0 and len(decoded) == 5000
    assert gc.isenabled(), "collections run again after the batch, also after an error"

    gc.disable()
    try:
        codec.decode_log(batch)
        assert not gc.isenabled(), "a caller that paused the collector keeps it paused"
    finally:
        gc.enable()


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
