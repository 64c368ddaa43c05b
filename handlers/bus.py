"""The CommandBus: one handler per command type, and retries when a stream moved underneath."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from eventstore import ConcurrencyError
from handlers.actor import Actor
from handlers.commands import OrderCommand
from handlers.errors import UnknownCommand, VersionConflict
from handlers.observation import CommandObserver, CommandWatch
from handlers.outcome import CommandOutcome

Handler = Callable[[Any, Actor], Awaitable[CommandOutcome]]


class CommandBus:
    """Routes each command to its handler.

    A command without `expected_version` means "apply to whatever the order is now": when
    another writer appended first, the handler runs again on the reloaded order, after a
    jittered pause so that the contenders spread out instead of colliding again.
    """

    def __init__(
        self,
        max_attempts: int = 50,
        max_backoff: float = 0.1,
        observer: CommandObserver | None = None,
    ) -> None:
        self._handlers: dict[type[Any], Handler] = {}
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._observer = observer

    def register(self, command_type: type[Any], handler: Handler) -> None:
        if command_type in self._handlers:
            raise ValueError(f"{command_type.__name__} already has a handler")
        self._handlers[command_type] = handler

    async def dispatch(self, command: OrderCommand, actor: Actor) -> CommandOutcome:
        """Handle `command` on behalf of `actor`, who must be allowed to issue it."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(f"no handler is registered for {type(command).__name__}")
        if self._observer is None:
            return await self._attempts(handler, command, actor, None)
        with self._observer.watch(command) as watch:
            outcome = await self._attempts(handler, command, actor, watch)
            watch.handled(outcome)
            return outcome

    async def _attempts(
        self, handler: Handler, command: OrderCommand, actor: Actor, watch: CommandWatch | None
    ) -> CommandOutcome:
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await handler(command, actor)
            except ConcurrencyError as conflict:
                if command.expected_version is not None or attempt == self._max_attempts:
                    raise VersionConflict(command.order_id, command.expected_version) from conflict
                if watch is not None:
                    watch.retried()
                await asyncio.sleep(random.uniform(0, min(self._max_backoff, 0.001 * 2**attempt)))
        raise AssertionError("unreachable: the loop returns or raises")
