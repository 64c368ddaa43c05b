"""The composition root: the Starlette app serving GraphQL at /graphql and health at /health.

Nothing connects at import: the lifespan builds the engine, store, buses and projection
runner when the server starts, and stops them when it shuts down.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from readmodels import Projection
from schema import collector
from schema.errors import classify
from schema.extensions import extensions_for
from schema.graphiql import graphiql_assets
from schema.graphql_view import GRAPHQL_PATH, OrdersGraphQL
from schema.health import health
from schema.identity.callers import OPEN_WARNING
from schema.limits import BodySizeLimit
from schema.mutations import Mutation
from schema.observability import Observability, ReadingSources
from schema.queries import Query
from schema.scalars import SCALARS
from schema.services import Services
from schema.settings import Settings
from schema.strawberry_hooks import StrawberryHooks
from schema.subscriptions import Subscription

log = logging.getLogger(__name__)


class OrdersSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            classify(error)


def build_schema(
    settings: Settings,
    hooks: StrawberryHooks | None = None,
    observability: Observability | None = None,
) -> strawberry.Schema:
    hooks = hooks or StrawberryHooks()
    # the signals' extension first: its operation span and timing enclose the others'
    signals = [] if observability is None else observability.schema_extensions()
    return OrdersSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[*signals, *extensions_for(settings)],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=hooks.execution_context_class,
    )


def create_app(
    settings: Settings | None = None,
    *,
    settle_collector: bool = False,
    projections: Sequence[Projection] | None = None,
) -> Starlette:
    """The app; `settle_collector` tunes the garbage collector once the services have started
    (schema/collector.py), which a serving process wants and a test process need not;
    `projections` replaces the product's own (a test's new version of one)."""
    settings = settings or Settings.from_environment()
    hooks = StrawberryHooks()
    observability = Observability(settings.observability)
    graphql = OrdersGraphQL(
        build_schema(settings, hooks, observability),
        hooks,
        graphql_ide="graphiql" if settings.graphiql else None,
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=10),
        # counted by the subscriptions themselves (Context.subscription_slot), which refuse
        # with a code; Strawberry's own refusal has none
        max_subscriptions_per_connection=None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await observability.start()
        app.state.services = await Services.start(settings, observability, projections)
        if app.state.services.authentication.mode == "open":
            log.warning(OPEN_WARNING)
        if settle_collector:
            collector.settle()
        try:
            yield
        finally:
            await app.state.services.stop()
            await observability.stop()

    routes = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql),
        Route("/health", health, methods=["GET"]),
        *observability.routes(_reading_sources),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    middleware = [observability.middleware(), Middleware(BodySizeLimit)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def _reading_sources(request: Request) -> ReadingSources:
    services: Services = request.app.state.services
    return ReadingSources(
        store=services.database.store, projections=tuple(services.read_side.runner.names)
    )


def served_app() -> Starlette:
    """The app as `cqrs-orders serve` runs it, in every worker process."""
    return create_app(settle_collector=True)


__all__ = ["create_app", "served_app"]
