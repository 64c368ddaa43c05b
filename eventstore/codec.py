"""Turn event dataclasses into JSON and back, by stable type name and schema version.

Stored events never name a Python module: each class is registered under a type name
and the schema version of its current shape. Reading an older version runs the
registered upcasters, one version step at a time, before the dataclass is built.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Union
from uuid import UUID

from eventstore.records import JsonObject

Upcaster = Callable[[JsonObject], JsonObject]
_Convert = Callable[[Any], Any]


class UnknownEventType(Exception):
    """A stored event whose type or schema version this code cannot read."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Registration:
    cls: type[Any]
    name: str
    version: int
    encode: _Convert
    decode: _Convert


class EventCodec:
    """A registry of event classes with their names, versions and upcasters."""

    def __init__(self) -> None:
        self._by_name: dict[str, _Registration] = {}
        self._by_class: dict[type[Any], _Registration] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[Any], *, name: str, version: int = 1) -> None:
        if name in self._by_name or cls in self._by_class:
            raise ValueError(f"event {name} ({cls.__name__}) is registered twice")
        registration = _Registration(cls, name, version, _encoder(cls), _decoder(cls))
        self._by_name[name] = registration
        self._by_class[cls] = registration

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function that turns version `from_version` of `name` into the next one."""

        def add(function: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = function
            return function

        return add

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    def name_of(self, cls: type[Any]) -> str:
        return self._by_class[cls].name

    def encode(self, event: Any) -> tuple[str, int, JsonObject]:
        registration = self._by_class.get(type(event))
        if registration is None:
            raise UnknownEventType(f"{type(event).__name__} is not a registered event")
        data: JsonObject = registration.encode(event)
        return registration.name, registration.version, data

    def decode(self, name: str, version: int, data: JsonObject) -> Any:
        registration = self._by_name.get(name)
        if registration is None:
            raise UnknownEventType(f"no event type {name!r} is registered")
        if version > registration.version:
            raise UnknownEventType(
                f"{name} v{version} is newer than this code (v{registration.version})"
            )
        while version < registration.version:
            upcast = self._upcasters.get((name, version))
            if upcast is None:
                raise UnknownEventType(f"no upcaster from {name} v{version}")
            data = upcast(dict(data))
            version += 1
        return registration.decode(data)


def _encoder(cls: type[Any]) -> _Convert:
    fields = [(f.name, _encoder_for(hint)) for f, hint in _hinted_fields(cls)]

    def encode(obj: Any) -> JsonObject:
        return {name: convert(getattr(obj, name)) for name, convert in fields}

    return encode


def _decoder(cls: type[Any]) -> _Convert:
    hinted = _hinted_fields(cls)
    fields = [(f.name, _decoder_for(hint)) for f, hint in hinted]
    if _slots_filled_by_init(cls, [f for f, _ in hinted]):
        return _slot_decoder(cls, fields)

    def decode(data: JsonObject) -> Any:
        return cls(**{name: convert(data[name]) for name, convert in fields if name in data})

    return decode


def _slots_filled_by_init(cls: type[Any], fields: list[dataclasses.Field[Any]]) -> bool:
    """A dataclass whose __init__ only stores each field in its slot: no defaults to fill
    in, no __post_init__ to run."""
    return (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__post_init__")
        and all(
            f.init
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and isinstance(cls.__dict__.get(f.name), types.MemberDescriptorType)
            for f in fields
        )
    )


def _slot_decoder(cls: type[Any], fields: list[tuple[str, _Convert]]) -> _Convert:
    """Fills the slots directly, as __init__ would, in a function written for the class:
    a frozen dataclass's __init__ stores each field through object.__setattr__, and a
    loop over the fields costs as much again; the two made up most of the cost of
    decoding a rebuild's events."""
    names = [name for name, _ in fields]
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls, "missing": _missing_field}
    lines = ["def decode(data):", "    try:", "        obj = new(cls)"]
    for index, (name, convert) in enumerate(fields):
        scope[f"store_{index}"] = cls.__dict__[name].__set__
        value = f"data[{name!r}]"
        if convert is not _identity:
            scope[f"convert_{index}"] = convert
            value = f"convert_{index}({value})"
        lines.append(f"        store_{index}(obj, {value})")
    lines += [
        "        return obj",
        "    except KeyError as error:",
        f"        raise missing(cls, {names!r}, data, error) from None",
    ]
    exec("\n".join(lines), scope)
    decode: _Convert = scope["decode"]
    return decode


def _missing_field(
    cls: type[Any], names: list[str], data: JsonObject, error: KeyError
) -> Exception:
    """What a generated decoder raises on a KeyError: TypeError naming the field that
    the data lacks, else the KeyError itself (raised by a field's conversion)."""
    missing = next((name for name in names if name not in data), None)
    if missing is None:
        return error
    return TypeError(f"{cls.__name__} misses its field {missing!r}")


def _hinted_fields(cls: type[Any]) -> list[tuple[dataclasses.Field[Any], Any]]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls)]


def _identity(value: Any) -> Any:
    return value


def _optional_member(hint: Any) -> Any | None:
    """The T of `T | None`, or None when the hint is not optional."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {hint}")
        return members[0]
    return None


def _encoder_for(hint: Any) -> _Convert:
    member = _optional_member(hint)
    if member is not None:
        inner = _encoder_for(member)
        return lambda value: None if value is None else inner(value)
    if typing.get_origin(hint) is tuple:
        item = _encoder_for(typing.get_args(hint)[0])
        return lambda value: [item(v) for v in value]
    if hint in (Decimal, UUID):
        return str
    if hint is datetime:
        return lambda value: value.isoformat()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda value: value.value
    if dataclasses.is_dataclass(hint):
        return _encoder(typing.cast(type[Any], hint))
    if hint in (str, int, bool):
        return _identity
    raise TypeError(f"unsupported event field type {hint}")


def _decoder_for(hint: Any) -> _Convert:
    member = _optional_member(hint)
    if member is not None:
        inner = _decoder_for(member)
        return lambda value: None if value is None else inner(value)
    if typing.get_origin(hint) is tuple:
        item = _decoder_for(typing.get_args(hint)[0])
        return lambda value: tuple([item(v) for v in value])
    if hint is datetime:
        return datetime.fromisoformat
    if hint in (Decimal, UUID) or (isinstance(hint, type) and issubclass(hint, enum.Enum)):
        return typing.cast(_Convert, hint)
    if dataclasses.is_dataclass(hint):
        return _decoder(typing.cast(type[Any], hint))
    if hint in (str, int, bool):
        return _identity
    raise TypeError(f"unsupported event field type {hint}")
