"""The order_views projection: one row per order, folded a batch at a time."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from eventstore import LoggedEvent
from readmodels.order_views import bulk
from readmodels.order_views.fold import evolve
from readmodels.order_views.table import order_views_table, row_of, view_from
from readmodels.projection import ORDER_EVENT_TYPES, decoded
from readmodels.results import OrderView
from readmodels.sql import rows_by_key, upsert


class OrderViewsProjection:
    name = "order_views"
    version = 1
    handles = ORDER_EVENT_TYPES

    def __init__(self, suffix: str = "") -> None:
        """Writes the live table, or with a suffix a copy beside it: each instance
        carries its own tables, so one built beside the live one writes only its copy."""
        self.order_views = order_views_table(f"{self.name}{suffix}", MetaData())
        self.tables: tuple[Table, ...] = (self.order_views,)

    def in_tables(self, suffix: str) -> OrderViewsProjection:
        return type(self)(suffix)

    async def apply(self, conn: AsyncConnection, events: Sequence[LoggedEvent]) -> None:
        order_views = self.order_views
        batch = decoded(events)
        # One read of the rows the batch touches, one write of each touched row: a
        # statement per event would cap the projection near ten thousand events a second.
        touched = list(dict.fromkeys(event.order_id for _, event in batch))
        views: dict[UUID, OrderView] = {
            row["order_id"]: view_from(row)
            for row in await rows_by_key(conn, order_views, order_views.c.order_id, touched)
        }
        for recorded, event in batch:
            views[event.order_id] = evolve(
                views.get(event.order_id), event, recorded.version, recorded.position
            )
        await upsert(
            conn, order_views, [row_of(views[order_id]) for order_id in touched], key=["order_id"]
        )

    def replay(self) -> bulk.OrderViewsReplay:
        return bulk.OrderViewsReplay(self.order_views)
