"""What a projection is to the runner: a name, the events it reads, its tables, a batch apply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
from readmodels.sql import rows_by_key

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

    On PostgreSQL the runner holds back what `apply` writes through readmodels.sql.upsert
    and sends it with the checkpoint in one statement; readmodels.sql.rows_by_key then
    reads outside any transaction, the checkpoint's revision vouching for what it read
    (readmodels/held_rows.py). Any other statement on the connection begins a transaction,
    which the runner commits with that statement.
    """

    name: str
    # Bumped when what the projection writes changes (a column, a fold): a shadow build
    # (readmodels/running/shadow_build.py) names its tables and checkpoint after it.
    version: int
    handles: frozenset[str]
    # in the order `apply` first writes them (so a switch that locks them cannot deadlock
    # with a batch)
    tables: tuple[Table, ...]

    def in_tables(self, suffix: str) -> Projection:
        """This projection writing tables named like its own + `suffix`: a shadow build's."""
        ...

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None: ...

    def replay(self) -> Replay:
        """`apply` for a rebuild (running/bulk_replay.py): a fold of the log, a large window
        at a time, into tables that hold only what the windows before wrote."""
        ...


# What writes a folded window's rows through the connection it is given (never committing).
WindowWrite = Callable[[AsyncConnection], Awaitable[None]]


class Replay(Protocol):
    """A rebuild's fold, window after window. While one window's rows are written, the next
    window is folded: so the fold keeps what the last window made of the orders it touched,
    which may not be committed yet, and reads older orders back through `engine`."""

    async def fold(self, engine: AsyncEngine, events: Sequence[LoggedEvent]) -> WindowWrite:
        """The window's rows, ready to be written: an order first created in the window is
        a new row, written once (raising if it is already there). Raises on an event it
        cannot apply."""
        ...


# Events a rebuild's fold handles between two turns of the event loop: the window written
# meanwhile needs the loop for its round trips and the COPY of its rows.
TURN = 500

_Item = TypeVar("_Item")
_State = TypeVar("_State")


async def in_turns(items: Sequence[_Item]) -> AsyncIterator[Sequence[_Item]]:
    """`items` a turn's worth at a time, letting the loop run between them."""
    for start in range(0, len(items), TURN):
        if start:
            await asyncio.sleep(0)
        yield items[start : start + TURN]


def decoded(events: Sequence[LoggedEvent]) -> list[tuple[LoggedEvent, OrderEvent]]:
    """Each event with its payload, upcast to the current dataclass."""
    return list(zip(events, codec.decode_log(events), strict=True))


def created_and_earlier(
    batch: Sequence[tuple[LoggedEvent, OrderEvent]],
) -> tuple[set[UUID], dict[UUID, None]]:
    """A replay window's orders: those it creates (new rows), and, in order, those created
    in an earlier window (rows to read back)."""
    created: set[UUID] = set()
    earlier: dict[UUID, None] = {}
    for _, event in batch:
        order_id = event.order_id
        if order_id in created or order_id in earlier:
            continue
        if isinstance(event, OrderCreated):
            created.add(order_id)
        else:
            earlier[order_id] = None
    return created, earlier


async def folded_before(
    engine: AsyncEngine,
    table: Table,
    earlier: Iterable[UUID],
    last: Mapping[UUID, _State],
    state_of: Callable[[Mapping[str, Any]], _State],
) -> dict[UUID, _State]:
    """What a rebuild's fold starts a window from for the orders created in an earlier
    window (`earlier`): what the last window made of them (`last`), or else their row of
    `table` (keyed by order_id), written by a window before the last one, which has
    committed by now."""
    before = {order_id: last[order_id] for order_id in earlier if order_id in last}
    older = [order_id for order_id in earlier if order_id not in before]
    if older:
        async with engine.connect() as conn:
            found = await rows_by_key(conn, table, table.c.order_id, older)
        before.update((row["order_id"], state_of(row)) for row in found)
    return before


async def decoded_in_turns(events: Sequence[LoggedEvent]) -> list[tuple[LoggedEvent, OrderEvent]]:
    """`decoded` for a rebuild's fold, letting the loop run between turns."""
    batch: list[tuple[LoggedEvent, OrderEvent]] = []
    async for part in in_turns(events):
        batch.extend(decoded(part))
    return batch
