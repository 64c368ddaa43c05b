"""Opaque cursors of order listings: the sort key and order id of an order, as a client holds
them between pages.

A cursor names a position in one ordering, not a row number: the next page starts after
that (sort key, order id) pair, so orders written meanwhile neither shift nor repeat a
page. It is base64url of a small JSON with a checksum, so an edited cursor is refused
(BAD_USER_INPUT) rather than read as another position. It is no secret and no
permission: every page is scoped in its SQL whatever the cursor says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from readmodels.errors import InvalidQuery

_CHECKSUM_BYTES = 6
# the sort keys: a time (ISO 8601, UTC) or whole cents
SortKey = datetime | int


@dataclass(frozen=True, slots=True, kw_only=True)
class Cursor:
    """A position in the listing sorted by `sort` (CREATED_AT, UPDATED_AT, TOTAL_AMOUNT)."""

    sort: str
    key: SortKey
    order_id: UUID

    def encode(self) -> str:
        key = self.key.isoformat() if isinstance(self.key, datetime) else self.key
        body = json.dumps([self.sort, key, str(self.order_id)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(_checksum(body) + body).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: str, field: str) -> Cursor:
        """The cursor `text`, which must belong to a listing sorted by `sort`; InvalidQuery
        naming `field` for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise InvalidQuery("the cursor is not one this service gave", field) from None
        checksum, body = raw[:_CHECKSUM_BYTES], raw[_CHECKSUM_BYTES:]
        if not body or checksum != _checksum(body):
            raise InvalidQuery("the cursor is not one this service gave", field)
        try:
            cursor_sort, key, order_id = json.loads(body)
            parsed = cls(sort=cursor_sort, key=_key(cursor_sort, key), order_id=UUID(order_id))
        except (ValueError, TypeError, KeyError):
            raise InvalidQuery("the cursor is not one this service gave", field) from None
        if parsed.sort != sort:
            raise InvalidQuery(f"the cursor belongs to a listing sorted by {parsed.sort}", field)
        return parsed


def _key(sort: str, value: object) -> SortKey:
    if sort == "TOTAL_AMOUNT" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if sort in ("CREATED_AT", "UPDATED_AT") and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a cursor's time has its zone")
        return moment
    raise ValueError(f"no sort key {value!r} for {sort!r}")


def _checksum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_CHECKSUM_BYTES).digest()
