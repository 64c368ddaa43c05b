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
    # READ_DATABASE_URL's, when queries read from a replica
    read_engine: AsyncEngine | None
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
        engine = await connect_engine(
            settings.database_url, **settings.pool_options(settings.database_url)
        )
        if engine.dialect.name == "sqlite":
            await upgrade(engine)  # the embedded default needs no setup step
        elif pending := await pending_revisions(engine):
            await engine.dispose()
            raise DatabaseUnavailable(
                f"the database lacks migrations {', '.join(pending)}: run `cqrs-orders migrate`"
            )
        read_engine = await _read_engine(settings, engine)
        store = EventStore(engine, append_connections=settings.append_connections)
        commands = CommandBus()
        register_order_handlers(commands, store)
        services = cls(
            settings=settings,
            engine=engine,
            read_engine=read_engine,
            store=store,
            commands=commands,
            read_side=ReadSide.create(
                store, read_engine=read_engine, query_connections=settings.query_connections
            ),
        )
        store.start()
        await services.read_side.start(projections=settings.projections)
        return services

    async def stop(self) -> None:
        await self.read_side.close()
        await self.store.close()
        if self.read_engine is not None:
            await self.read_engine.dispose()
        await self.engine.dispose()


async def _read_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine | None:
    """The engine of READ_DATABASE_URL, a PostgreSQL replica of DATABASE_URL, if set."""
    if settings.read_database_url is None:
        return None
    if engine.dialect.name != "postgresql":
        await engine.dispose()
        raise DatabaseUnavailable(
            "READ_DATABASE_URL names a replica of DATABASE_URL: both must be PostgreSQL"
        )
    read_engine = await connect_engine(
        settings.read_database_url, **settings.pool_options(settings.read_database_url)
    )
    if read_engine.dialect.name != "postgresql":
        await read_engine.dispose()
        await engine.dispose()
        raise DatabaseUnavailable("READ_DATABASE_URL must be a PostgreSQL URL")
    return read_engine
