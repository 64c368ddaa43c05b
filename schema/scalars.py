"""The contract's custom scalars: BigInt, DateTime (timezone required) and Decimal (as a string)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

BigInt = NewType("BigInt", int)

_INT64 = range(-(2**63), 2**63)
# Money, not astronomy: every amount fits in int64 cents, and no exponent makes the database
# layer build a million-digit integer (which blocks the event loop for seconds).
MAX_DECIMAL = Decimal(10) ** 15


def parse_bigint(value: object) -> int:
    # JSON numbers arrive as int; strings are accepted because JavaScript clients
    # cannot hold every 64-bit integer as a number
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("BigInt must be an integer")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"BigInt must be an integer, not {value!r}") from None
    if number not in _INT64:
        raise ValueError("BigInt must fit in 64 bits")
    return number


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"DateTime must be ISO-8601, not {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"DateTime must carry a timezone offset, e.g. {value}+00:00")
    return parsed.astimezone(UTC)


def serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def parse_decimal(value: object) -> Decimal:
    # a float has already lost exactness, so only strings and integers are amounts
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('Decimal must be a string such as "19.99"')
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"Decimal must be a number written as a string, not {value!r}") from None
    if not amount.is_finite():
        raise ValueError("Decimal must be finite")
    if amount.copy_abs() >= MAX_DECIMAL:
        raise ValueError("Decimal must be less than 10^15 in absolute value")
    return amount


SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="Global position in the event log: a 64-bit integer, serialized as a JSON "
        "number.",
        serialize=int,
        parse_value=parse_bigint,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="ISO-8601 timestamp with timezone, e.g. 2026-11-23T10:15:00+00:00.",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    Decimal: strawberry.scalar(
        name="Decimal",
        description='Exact decimal money amount, serialized as a string, e.g. "19.99".',
        serialize=str,
        parse_value=parse_decimal,
    ),
}
