"""The order command handler: load the stream, fold it, decide, append at the version read."""

from __future__ import annotations

import contextlib
from typing import Any

from eventstore import CommandFingerprintMismatch, ConcurrencyError, EventStore, NewEvent
from handlers.bus import CommandBus
from handlers.commands import (
    AddOrderItem,
    CancelOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
    fingerprint,
)
from handlers.errors import DomainError, InvalidInput, VersionConflict
from handlers.events import STREAM_TYPE, OrderEvent, codec, order_id_of, stream_id_of
from handlers.order import Order, decide, evolve
from handlers.outcome import CommandOutcome


class OrderCommandHandler:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def __call__(self, command: OrderCommand) -> CommandOutcome:
        if command.expected_version is not None and command.expected_version < 0:
            raise InvalidInput("expected_version must be 0 or more", "expected_version")
        digest = fingerprint(command)
        stream_id = stream_id_of(command.order_id)
        if isinstance(command, CreateOrder) and not command.expected_version:
            # A new order's id is fresh, so its stream is empty: skip reading it. Should it
            # exist after all, the append at version 0 fails on the (stream_id, version) key,
            # and the full path below reads it and refuses the command.
            with contextlib.suppress(ConcurrencyError):
                return await self._decide_and_append(
                    command, Order(id=command.order_id), 0, stream_id, digest
                )
        order, version = await self._load(command, stream_id)
        return await self._decide_and_append(command, order, version, stream_id, digest)

    async def _decide_and_append(
        self, command: OrderCommand, order: Order, version: int, stream_id: str, digest: str
    ) -> CommandOutcome:
        try:
            if command.expected_version is not None and command.expected_version != version:
                raise VersionConflict(command.order_id, command.expected_version, version)
            new_events = decide(order, command)
        except DomainError:
            # A retry of a command that already succeeded meets the order it changed
            # (already shipped, a newer version): answer with the first result instead.
            handled = await self._handled_before(command, digest)
            if handled is not None:
                return handled
            raise
        try:
            result = await self._store.append(
                stream_id,
                STREAM_TYPE,
                [self._encoded(event, command) for event in new_events],
                expected_version=version,
                command_id=command.command_id,
                fingerprint=digest,
            )
        except CommandFingerprintMismatch as reused:
            raise _reused_command_id(reused) from None
        return _outcome(
            command, result.stream_id, result.version, result.position, result.duplicate
        )

    async def _load(self, command: OrderCommand, stream_id: str) -> tuple[Order, int]:
        order = Order(id=command.order_id)
        version = 0
        for recorded in await self._store.read_stream(stream_id):
            event: OrderEvent = codec.decode(
                recorded.event_type, recorded.schema_version, recorded.data
            )
            order = evolve(order, event)
            version = recorded.version
        return order, version

    async def _handled_before(self, command: OrderCommand, digest: str) -> CommandOutcome | None:
        try:
            result = await self._store.find_command(command.command_id, digest)
        except CommandFingerprintMismatch as reused:
            raise _reused_command_id(reused) from None
        if result is None:
            return None
        return _outcome(command, result.stream_id, result.version, result.position, True)

    @staticmethod
    def _encoded(event: OrderEvent, command: OrderCommand) -> NewEvent:
        event_type, schema_version, data = codec.encode(event)
        metadata: dict[str, Any] = {
            "command_id": str(command.command_id),
            "command_type": type(command).__name__,
            # the command starts its own causal chain: it is its own correlation and cause
            "correlation_id": str(command.command_id),
            "causation_id": str(command.command_id),
            "timestamp": command.timestamp.isoformat(),
        }
        return NewEvent(
            event_type=event_type, schema_version=schema_version, data=data, metadata=metadata
        )


def register_order_handlers(bus: CommandBus, store: EventStore) -> None:
    handler = OrderCommandHandler(store)
    for command_type in (CreateOrder, AddOrderItem, RemoveOrderItem, ShipOrder, CancelOrder):
        bus.register(command_type, handler)


def _outcome(
    command: OrderCommand, stream_id: str, version: int, position: int, duplicate: bool
) -> CommandOutcome:
    return CommandOutcome(
        command_id=command.command_id,
        order_id=order_id_of(stream_id),
        stream_id=stream_id,
        version=version,
        position=position,
        duplicate=duplicate,
    )


def _reused_command_id(error: CommandFingerprintMismatch) -> InvalidInput:
    return InvalidInput(str(error), "command_id")
