"""What a projection is to the runner: a name, the events it reads, its tables, a batch apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import LoggedEvent
from handlers.events import (
    OrderCancelled,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderShipped,
    codec,
)

ORDER_EVENT_TYPES = frozenset(
    codec.name_of(cls)
    for cls in (OrderCreated, OrderItemAdded, OrderItemRemoved, OrderShipped, OrderCancelled)
)


class Projection(Protocol):
    """Folds events into read tables that it alone writes.

    `apply` gets only events of the types in `handles`, in position order, and writes
    through the connection it is given. It never commits: the runner commits its rows and
    its checkpoint together, so a crash can neither skip nor repeat an event. It raises on
    an event it cannot apply, and then nothing of the batch is kept.
    """

    name: str
    handles: frozenset[str]
    tables: tuple[Table, ...]

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None: ...


def decoded(events: Sequence[LoggedEvent]) -> list[tuple[LoggedEvent, OrderEvent]]:
    """Each event with its payload, upcast to the current dataclass."""
    decode = codec.decode
    return [
        (event, cast(OrderEvent, decode(event.event_type, event.schema_version, event.data)))
        for event in events
    ]
