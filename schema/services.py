"""The composition root's product: every long-lived service of one API process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from eventstore import DatabaseUnavailable, EventStore, connect_engine
from handlers.bus import CommandBus
from handlers.orders import register_order_handlers
from migrations import pending_revisions, upgrade
from readmodels.bus import QueryBus
from readmodels.consistency import ConsistencyWaiter
from readmodels.hub import UpdateHub
from readmodels.wiring import ReadSide
from schema.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    store: EventStore
    commands: CommandBus
    read_side: ReadSide

    @property
    def queries(self) -> QueryBus:
        return self.read_side.bus

    @property
    def waiter(self) -> ConsistencyWaiter:
        return self.read_side.waiter

    @property
    def hub(self) -> UpdateHub:
        return self.read_side.hub

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        """Connect, and start announcing appends and (if enabled) running projections."""
        engine = await connect_engine(settings.database_url)
        if engine.dialect.name == "sqlite":
            await upgrade(engine)  # the embedded default needs no setup step
        elif pending := await pending_revisions(engine):
            await engine.dispose()
            raise DatabaseUnavailable(
                f"the database lacks migrations {', '.join(pending)}: run `cqrs-orders migrate`"
            )
        store = EventStore(engine)
        commands = CommandBus()
        register_order_handlers(commands, store)
        services = cls(
            settings=settings,
            engine=engine,
            store=store,
            commands=commands,
            read_side=ReadSide.create(store),
        )
        store.start()
        if settings.projections:
            await services.read_side.runner.start()
        return services

    async def stop(self) -> None:
        if self.settings.projections:
            await self.read_side.runner.close()
        await self.store.close()
        await self.engine.dispose()
