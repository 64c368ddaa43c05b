"""The composition root: the Starlette app serving GraphQL at /graphql and health at /health.

Nothing connects at import: the lifespan builds the engine, store, buses and projection
runner when the server starts, and stops them when it shuts down.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema import collector
from schema.context import Context
from schema.errors import classify
from schema.extensions import extensions_for
from schema.fanout import SharedEventExecutor, encode_message
from schema.graphiql import graphiql_assets, graphiql_page
from schema.graphql_ws import ClosingGraphQLWSHandler
from schema.health import health
from schema.limits import TOO_DEEP, BodySizeLimit, UnreadableRequest
from schema.mutations import Mutation
from schema.queries import Query
from schema.scalars import SCALARS
from schema.services import Services
from schema.settings import Settings
from schema.subscriptions import Subscription

log = logging.getLogger(__name__)

GRAPHQL_PATH = "/graphql"


class OrdersSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            classify(error)


def build_schema(settings: Settings) -> strawberry.Schema:
    return OrdersSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions_for(settings),
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=SharedEventExecutor,
    )


class OrdersGraphQL(GraphQL[Context, None]):
    graphql_ws_handler_class = ClosingGraphQLWSHandler

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        return Context(services=services, request=request, response=response)

    def encode_json(self, data: object) -> str | bytes:
        return encode_message(data) or super().encode_json(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page(GRAPHQL_PATH)

    def parse_json(self, data: str | bytes) -> Any:
        """The request's JSON (a POST body, GET's variables), refusing as the client's fault
        what Strawberry would fail on with a 500: nesting too deep to decode, bytes that are
        not UTF-8, and a body that is not an object or a batch."""
        try:
            decoded = super().parse_json(data)
        except RecursionError:
            raise UnreadableRequest(TOO_DEEP) from None
        except UnicodeDecodeError:
            raise UnreadableRequest("request body is not UTF-8") from None
        if not isinstance(decoded, dict | list):
            raise UnreadableRequest("request JSON must be an object (or a batch of them)")
        return decoded


def create_app(settings: Settings | None = None, *, settle_collector: bool = False) -> Starlette:
    """The app; `settle_collector` tunes the garbage collector once the services have started
    (schema/collector.py), which a serving process wants and a test process need not."""
    settings = settings or Settings.from_environment()
    graphql = OrdersGraphQL(
        build_schema(settings),
        graphql_ide="graphiql" if settings.graphiql else None,
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=10),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.services = await Services.start(settings)
        if settle_collector:
            collector.settle()
        try:
            yield
        finally:
            await app.state.services.stop()

    routes = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql),
        Route("/health", health, methods=["GET"]),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(BodySizeLimit)])


def served_app() -> Starlette:
    """The app as `cqrs-orders serve` runs it, in every worker process."""
    return create_app(settle_collector=True)


__all__ = ["create_app", "served_app"]
