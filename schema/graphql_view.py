"""The GraphQL view: Strawberry's ASGI view with the service's callers, media types,
persisted operations, GraphiQL page and request-JSON checks."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from schema.context import Context
from schema.graphiql import graphiql_page
from schema.graphiql_document import default_document
from schema.http_media import (
    GRAPHQL_RESPONSE,
    GRAPHQL_RESPONSE_TYPE,
    accepted_media_type,
    as_graphql_response,
)
from schema.identity import websockets
from schema.limits import TOO_DEEP, UnreadableRequest
from schema.persisted_operations import resolve_persisted
from schema.services import Services
from schema.strawberry_hooks import StrawberryHooks

GRAPHQL_PATH = "/graphql"


class OrdersGraphQL(GraphQL[Context, None]):
    graphql_ws_handler_class = StrawberryHooks.graphql_ws_handler_class

    def __init__(self, schema: strawberry.Schema, hooks: StrawberryHooks, **options: Any) -> None:
        super().__init__(schema, **options)
        self._hooks = hooks

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        context = Context(
            services=services, fanout=self._hooks.fanout, request=request, response=response
        )
        if isinstance(request, Request):
            # a websocket's caller is known once its connection_init arrives (on_ws_connect)
            authorization = request.headers.get("authorization")
            context.caller = await services.authentication.caller(authorization)
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType:
        await websockets.admit(context)
        # an acknowledgement without a payload, as before identity
        acknowledged: UnsetType = UNSET
        return acknowledged

    async def run(
        self,
        request: Request | WebSocket,
        context: Context | None = None,
        root_value: None = None,
    ) -> Any:
        """As Strawberry runs a request, but a websocket's context is made here, so that the
        connection's end releases what `on_ws_connect` took (its principal's count, its
        expiry timer): Strawberry has no hook for a connection's end."""
        if not isinstance(request, WebSocket):
            return await super().run(request)
        context = await self.get_context(request, request)
        try:
            return await super().run(request, context=context)
        finally:
            websockets.end(context)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Strawberry's, with a persisted operation's hash turned into its document first
        (schema/persisted_operations/apq.py), or the request refused with its code."""
        services = context.services
        requests = request_data if isinstance(request_data, list) else [request_data]
        resolved: list[GraphQLRequestData] = []
        for data in requests:
            found = await resolve_persisted(
                data,
                services.persisted_operations,
                services.settings.persisted_operations,
                may_register=context.caller.actor is not None,
            )
            if isinstance(found, GraphQLError):
                return PreExecutionError(data=None, errors=[found])
            resolved.append(found)
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=resolved if isinstance(request_data, list) else resolved[0],
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )

    def encode_json(self, data: object) -> str | bytes:
        return self._hooks.fanout.encode_message(data) or super().encode_json(data)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Strawberry's, carrying the media type the request accepts (schema/http_media.py)
        to `create_response`, which is not given the request."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = accepted_media_type(request.headers.get("accept"))
        return sub_response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        if sub_response.media_type != GRAPHQL_RESPONSE:
            return super().create_response(response_data, sub_response)
        status = None if isinstance(response_data, list) else as_graphql_response(response_data)
        # Strawberry's sub-response has no status until one is set (None, against its type)
        if status is not None and not sub_response.status_code:
            sub_response.status_code = status  # a 401 set by the identity check stays
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = GRAPHQL_RESPONSE_TYPE
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        services: Services = request.app.state.services
        required = services.authentication.required
        return graphiql_page(GRAPHQL_PATH, default_document(authentication_required=required))

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
