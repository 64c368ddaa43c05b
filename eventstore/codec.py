"""Turn event dataclasses into JSON and back, by stable type name and schema version.

Stored events never name a Python module: each class is registered under a type name
and the schema version of its current shape. Reading an older version runs the
registered upcasters, one version step at a time, before the dataclass is built.

msgspec does the work from the classes' type hints: it decodes JSON of the current
version straight into the dataclass (Decimal from strings, UUIDs, tuples, enums,
defaults and __post_init__ included), in less than half the time that parsing to a dict
and building the dataclass from it took, and checks each field's type on the way.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import typing
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any

import msgspec

from eventstore.records import JsonObject, LoggedEvent

Upcaster = Callable[[JsonObject], JsonObject]

# every time in an event: msgspec refuses a stored time without an offset
UtcDateTime = Annotated[datetime, msgspec.Meta(tz=True)]


class UnknownEventType(Exception):
    """A stored event whose type or schema version this code cannot read."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Registration:
    cls: type[Any]
    name: str
    version: int
    decode_json: Callable[[str], Any]


class EventCodec:
    """A registry of event classes with their names, versions and upcasters."""

    def __init__(self) -> None:
        self._by_name: dict[str, _Registration] = {}
        self._by_class: dict[type[Any], _Registration] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        # (name, version) -> the function that decodes its JSON text (_decoder)
        self._decoders: dict[tuple[str, int], Callable[[str], Any]] = {}

    def register(self, cls: type[Any], *, name: str, version: int = 1) -> None:
        if name in self._by_name or cls in self._by_class:
            raise ValueError(f"event {name} ({cls.__name__}) is registered twice")
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a dataclass")
        naive = next(_naive_times(cls, cls.__name__), None)
        if naive is not None:
            raise TypeError(f"{naive} is a datetime that may be naive: declare it UtcDateTime")
        registration = _Registration(cls, name, version, msgspec.json.Decoder(cls).decode)
        self._by_name[name] = registration
        self._by_class[cls] = registration
        self._decoders.clear()  # a version decoded before may now need upcasting

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function that turns version `from_version` of `name` into the next one."""

        def add(function: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = function
            self._decoders.clear()
            return function

        return add

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    def name_of(self, cls: type[Any]) -> str:
        return self._by_class[cls].name

    def encode(self, event: Any) -> tuple[str, int, JsonObject]:
        """The event's name, version and JSON object: amounts and ids as strings, times
        in ISO 8601 with their offset (Z for UTC)."""
        registration = self._by_class.get(type(event))
        if registration is None:
            raise UnknownEventType(f"{type(event).__name__} is not a registered event")
        data: JsonObject = msgspec.to_builtins(event)
        try:
            # what goes into the log must read back: a naive time, say, would make every
            # later read of it fail, and stop each projection at it
            msgspec.convert(data, registration.cls)
        except msgspec.ValidationError as error:
            raise ValueError(f"{registration.name} would not decode: {error}") from None
        return registration.name, registration.version, data

    def decode_log(self, events: Iterable[LoggedEvent]) -> list[Any]:
        """Each event's payload, in order: the current version decoded straight from its
        JSON text into its class, an older one parsed, upcast and converted.

        A rebuild decodes hundreds of thousands a second, so the work per event is one
        dictionary look-up and the decoder's own: what to do with a (type, version) is
        settled the first time it is met (_decoder), checks included.

        The garbage collector waits until the batch is decoded. Every event is a few
        tracked objects (its dataclass, a tuple of lines, ...) that the caller keeps, so
        left on, it ran about 8 times per 2,000 events, each time moving them on to an
        older generation, and full collections followed every 30,000 events or so: 2 to
        4.6 us per event in all, more than the decoding (docs/benchmarks.md). Paused, a
        batch meets at most one young collection, after it is decoded."""
        decoders = self._decoders
        decoded: list[Any] = []
        append = decoded.append
        collecting = gc.isenabled()
        gc.disable()
        try:
            for event in events:
                key = event.event_type, event.schema_version
                decode = decoders.get(key) or self._decoder(*key)
                append(decode(event.data_json))
        except msgspec.DecodeError as error:
            raise _invalid(event.event_type, event.schema_version, error) from None
        finally:
            if collecting:
                gc.enable()
        return decoded

    def decode(self, name: str, version: int, data: JsonObject) -> Any:
        """The event from its JSON object, as a JSON column hands it over."""
        upcasts = self._upcasts(name, version)
        try:
            return self._converted(name, upcasts, data)
        except msgspec.DecodeError as error:
            raise _invalid(name, version, error) from None

    def _decoder(self, name: str, version: int) -> Callable[[str], Any]:
        """How to decode the JSON text of `version` of `name`, kept for the next events of
        that type and version; an unknown one is refused here, whatever its payload."""
        upcasts = self._upcasts(name, version)
        decoder = (
            functools.partial(self._upcast_json, name, upcasts)
            if upcasts
            else self._by_name[name].decode_json
        )
        self._decoders[name, version] = decoder
        return decoder

    def _upcast_json(self, name: str, upcasts: list[Upcaster], text: str) -> Any:
        return self._converted(name, upcasts, msgspec.json.decode(text))

    def _upcasts(self, name: str, version: int) -> list[Upcaster]:
        """The steps from `version` of `name` to its current version, checked before the
        payload is parsed: an unknown event is reported as such, whatever its payload."""
        registration = self._by_name.get(name)
        if registration is None:
            raise UnknownEventType(f"no event type {name!r} is registered")
        if version > registration.version:
            raise UnknownEventType(
                f"{name} v{version} is newer than this code (v{registration.version})"
            )
        upcasts = []
        for step in range(version, registration.version):
            upcast = self._upcasters.get((name, step))
            if upcast is None:
                raise UnknownEventType(f"no upcaster from {name} v{step}")
            upcasts.append(upcast)
        return upcasts

    def _converted(self, name: str, upcasts: list[Upcaster], data: JsonObject) -> Any:
        for upcast in upcasts:
            data = upcast(dict(data))  # a copy: the caller's object stays as it was read
        return msgspec.convert(data, self._by_name[name].cls)


def _invalid(name: str, version: int, error: msgspec.DecodeError) -> ValueError:
    """msgspec's message says what is wrong where (`$.items[0].unit_price`); this one
    adds which event."""
    return ValueError(f"{name} v{version} does not decode: {error}")


def _naive_times(hint: Any, where: str) -> Iterator[str]:
    """Where a type hint lets a naive datetime in: a bare datetime anywhere inside it."""
    if hint is datetime:
        yield where
    elif typing.get_origin(hint) is Annotated:
        base, *metadata = typing.get_args(hint)
        if not (base is datetime and any(getattr(m, "tz", None) for m in metadata)):
            yield from _naive_times(base, where)
    elif dataclasses.is_dataclass(hint):
        for field, inner in typing.get_type_hints(hint, include_extras=True).items():
            yield from _naive_times(inner, f"{where}.{field}")
    else:
        for inner in typing.get_args(hint):
            yield from _naive_times(inner, where)
