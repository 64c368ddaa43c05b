"""The composition root's product: every long-lived service of one API process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.bus import CommandBus
from handlers.handler import register_order_handlers
from readmodels import ConsistencyWaiter, Projection, QueryBus, ReadSide, StatusHub
from schema.bootstrap import Database, Purpose, open_database
from schema.identity.callers import Authentication
from schema.observability import Observability, Observers
from schema.persisted_operations import OperationStore
from schema.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    database: Database
    authentication: Authentication
    commands: CommandBus
    read_side: ReadSide
    # documents by hash (schema/persisted_operations/), shared through the database
    persisted_operations: OperationStore

    @property
    def queries(self) -> QueryBus:
        return self.read_side.bus

    @property
    def waiter(self) -> ConsistencyWaiter:
        return self.read_side.waiter

    @property
    def hub(self) -> StatusHub:
        return self.read_side.hub

    @classmethod
    async def start(
        cls,
        settings: Settings,
        observability: Observability | None = None,
        projections: Sequence[Projection] | None = None,
    ) -> Services:
        """Connect, and start announcing appends and (if enabled) running projections
        (`projections`, default the product's own: another version of one is how a test
        deploys new code); observed by `observability`'s metrics and traces when given."""
        database = await open_database(settings, Purpose.SERVE)
        try:
            authentication = await Authentication.start(
                settings.auth,
                is_sqlite=database.is_sqlite,
                max_connections_per_principal=settings.max_connections_per_principal,
            )
        except BaseException:
            await database.close()
            raise
        observers = Observers()
        if observability is not None:
            observability.instrument(database)
            observers = observability.observers(database.store)
        commands = CommandBus(observer=observers.commands)
        register_order_handlers(commands, database.store, observers.appends)
        services = cls(
            settings=settings,
            database=database,
            authentication=authentication,
            commands=commands,
            read_side=ReadSide.create(
                database.store,
                projections,
                read_engine=database.read_engine,
                query_connections=settings.query_connections,
                observer=observers.projections,
            ),
            persisted_operations=OperationStore(database.engine),
        )
        database.store.start()
        await services.read_side.start(projections=settings.projections)
        return services

    async def stop(self) -> None:
        await self.read_side.close()
        await self.authentication.close()
        await self.database.close()
