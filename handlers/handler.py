"""The order command handler: validate, authorize, load the stream, fold it, decide, append
at the version read."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventstore import CommandFingerprintMismatch, ConcurrencyError, EventStore, NewEvent
from handlers import permissions
from handlers.actor import Actor
from handlers.aggregate import Order, decide, fold
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
from handlers.observation import AppendTracing
from handlers.outcome import CommandOutcome
from handlers.validation import validated


class OrderCommandHandler:
    def __init__(self, store: EventStore, tracing: AppendTracing | None = None) -> None:
        self._store = store
        self._tracing = tracing

    async def __call__(self, command: OrderCommand, actor: Actor) -> CommandOutcome:
        # fingerprinted as sent, not as cleaned: earlier releases stored digests of the
        # commands as sent, and a retry of one of those must still match it
        digest = fingerprint(command)
        command = validated(command)
        # Authorization is settled before, and outside, the retry lookup in
        # _decide_and_append: a refusal there would hand whoever reuses a command id the
        # result stored for it, another customer's included.
        permissions.refuse_forbidden(actor, command)
        stream_id = stream_id_of(command.order_id)
        if isinstance(command, CreateOrder) and not command.expected_version:
            # A new order's id is fresh, so its stream is empty: skip reading it. Should it
            # exist after all, the append at version 0 fails on the (stream_id, version) key,
            # and the full path below reads it and refuses the command.
            with contextlib.suppress(ConcurrencyError):
                return await self._decide_and_append(
                    command, actor, Order(id=command.order_id), 0, stream_id, digest
                )
        order, version = await self._load(command.order_id, stream_id)
        permissions.hide_others_orders(actor, command, order)
        return await self._decide_and_append(command, actor, order, version, stream_id, digest)

    async def _decide_and_append(
        self,
        command: OrderCommand,
        actor: Actor,
        order: Order,
        version: int,
        stream_id: str,
        digest: str,
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
        trace = {} if self._tracing is None else self._tracing.event_metadata()
        encoded = [self._encoded(event, command, actor, trace) for event in new_events]
        try:
            with self._appending(stream_id, len(encoded)):
                result = await self._store.append(
                    stream_id,
                    STREAM_TYPE,
                    encoded,
                    expected_version=version,
                    command_id=command.command_id,
                    fingerprint=digest,
                )
        except CommandFingerprintMismatch as reused:
            raise _reused_command_id(reused) from None
        return _outcome(
            command, result.stream_id, result.version, result.position, result.duplicate
        )

    async def _load(self, order_id: UUID, stream_id: str) -> tuple[Order, int]:
        """The order as its events leave it, and the version of the last one: the version
        the decision's events must be appended after."""
        recorded = await self._store.read_stream(stream_id)
        events: Iterator[OrderEvent] = (
            codec.decode(r.event_type, r.schema_version, r.data) for r in recorded
        )
        return fold(order_id, events), recorded[-1].version if recorded else 0

    async def _handled_before(self, command: OrderCommand, digest: str) -> CommandOutcome | None:
        try:
            result = await self._store.find_command(command.command_id, digest)
        except CommandFingerprintMismatch as reused:
            raise _reused_command_id(reused) from None
        if result is None:
            return None
        return _outcome(command, result.stream_id, result.version, result.position, True)

    def _appending(self, stream_id: str, events: int) -> AbstractContextManager[object]:
        if self._tracing is None:
            return contextlib.nullcontext()
        return self._tracing.appending(stream_id, events)

    @staticmethod
    def _encoded(
        event: OrderEvent, command: OrderCommand, actor: Actor, trace: Mapping[str, str]
    ) -> NewEvent:
        event_type, schema_version, data = codec.encode(event)
        metadata: dict[str, Any] = {
            "command_id": str(command.command_id),
            "command_type": type(command).__name__,
            # the command starts its own causal chain: it is its own correlation and cause
            "correlation_id": str(command.command_id),
            "causation_id": str(command.command_id),
            "timestamp": command.timestamp.isoformat(),
            "actor": actor.as_metadata(),
            **trace,
        }
        return NewEvent(
            event_type=event_type, schema_version=schema_version, data=data, metadata=metadata
        )


def register_order_handlers(
    bus: CommandBus, store: EventStore, tracing: AppendTracing | None = None
) -> None:
    handler = OrderCommandHandler(store, tracing)
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
