"""PERSISTED_OPERATIONS=only: refuse every document not registered as trusted."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from schema.context import Context
from schema.persisted_operations.operation_store import sha256_of


class TrustedDocumentsOnly(SchemaExtension):
    """After DocumentChecks (listed after it), so a refused token is still a 401 and an
    invalid document still a validation error; then a document whose hash is not
    registered as trusted gets PERSISTED_QUERY_NOT_IN_LIST. Here rather than in the HTTP
    view, so that websocket subscriptions are held to the same list."""

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            not execution.pre_execution_errors
            and isinstance(context, Context)
            and execution.query is not None
        ):
            store = context.services.persisted_operations
            if await store.find(sha256_of(execution.query), trusted=True) is None:
                execution.pre_execution_errors = [
                    GraphQLError(
                        "this service runs registered operations only (cqrs-orders operations add)",
                        extensions={"code": "PERSISTED_QUERY_NOT_IN_LIST"},
                    )
                ]
        yield
