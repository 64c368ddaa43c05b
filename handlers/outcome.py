"""What a handled command reports back to its caller."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandOutcome:
    command_id: UUID
    order_id: UUID
    stream_id: str
    version: int
    position: int
    duplicate: bool
