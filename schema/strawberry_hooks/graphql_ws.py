"""The legacy graphql-ws protocol handler, with its subscriptions closed however they end."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import CompleteMessage, ErrorMessage
from strawberry.types.execution import PreExecutionError


class ClosingGraphQLWSHandler(BaseGraphQLWSHandler[Any, None]):
    """The legacy graphql-ws handler, closing each subscription's stream however it ends.

    strawberry 0.341's own leaves the stream suspended when a send fails because the client
    has gone: the subscription stays on the update hub until a garbage collection finds it, and
    the task ends in "Task exception was never retrieved" (graphql-transport-ws is not affected:
    its handler closes the stream with aclosing, as this one does)."""

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        try:
            result_source = await self.schema.subscribe(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            async with aclosing(result_source):
                is_first_result = True
                async for result in result_source:
                    if is_first_result and isinstance(result, PreExecutionError):
                        assert result.errors
                        error = ErrorMessage(
                            type="error", id=operation_id, payload=result.errors[0].formatted
                        )
                        await self.send_message(error)
                        return
                    await self.send_data_message(result, operation_id)
                    is_first_result = False
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except WebSocketDisconnected:
            pass  # the client has gone: there is no one to tell
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
