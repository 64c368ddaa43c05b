"""Mutations: each builds one command and dispatches it through the CommandBus."""

from __future__ import annotations

from uuid import UUID

import strawberry

from handlers.outcome import CommandOutcome
from readmodels import GetOrderById
from schema.context import Info
from schema.inputs import (
    AddOrderItemInput,
    CancelOrderInput,
    CreateOrderInput,
    RemoveOrderItemInput,
    ShipOrderInput,
)
from schema.scalars import BigInt
from schema.timeouts import timeout_seconds
from schema.types import Order


@strawberry.type(
    description="What a command did. Pass `position` to a query's minPosition or to the "
    "consistency subscription."
)
class CommandResult:
    command_id: strawberry.ID
    order_id: strawberry.ID
    stream_id: str = strawberry.field(description='Event stream of the order, "Order-<orderId>".')
    version: int = strawberry.field(description="Version of the order's stream after the command.")
    position: BigInt = strawberry.field(
        description="Global position of the last event the command appended."
    )
    duplicate: bool = strawberry.field(
        description="True when commandId had been handled before: nothing new was appended and "
        "the first result is returned."
    )

    @strawberry.field(
        description="The order's read model once every projection has reached `position` "
        "(read-your-writes); waits at most timeoutMs."
    )
    async def order(self, info: Info, timeout_ms: int | None = 5000) -> Order | None:
        await info.context.await_every_projection(self.position, timeout_seconds(timeout_ms))
        view = await info.context.ask(
            GetOrderById(order_id=UUID(self.order_id), customer_id=info.context.customer_scope)
        )
        return None if view is None else Order.of(view)

    @classmethod
    def of(cls, outcome: CommandOutcome) -> CommandResult:
        return cls(
            command_id=strawberry.ID(str(outcome.command_id)),
            order_id=strawberry.ID(str(outcome.order_id)),
            stream_id=outcome.stream_id,
            version=outcome.version,
            position=BigInt(outcome.position),
            duplicate=outcome.duplicate,
        )


@strawberry.type(
    description="Every mutation is one command. commandId (optional, client-chosen) makes a "
    "retry safe: the same commandId is handled once. expectedVersion (optional) makes the "
    "command fail with CONFLICT unless the order's stream is at that version."
)
class Mutation:
    @strawberry.mutation
    async def create_order(self, info: Info, input: CreateOrderInput) -> CommandResult:
        return CommandResult.of(await info.context.dispatch(input.to_command()))

    @strawberry.mutation
    async def add_order_item(self, info: Info, input: AddOrderItemInput) -> CommandResult:
        return CommandResult.of(await info.context.dispatch(input.to_command()))

    @strawberry.mutation
    async def remove_order_item(self, info: Info, input: RemoveOrderItemInput) -> CommandResult:
        return CommandResult.of(await info.context.dispatch(input.to_command()))

    @strawberry.mutation
    async def ship_order(self, info: Info, input: ShipOrderInput) -> CommandResult:
        return CommandResult.of(await info.context.dispatch(input.to_command()))

    @strawberry.mutation
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> CommandResult:
        return CommandResult.of(await info.context.dispatch(input.to_command()))
