"""The typed per-request context that resolvers see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from handlers.commands import OrderCommand
from handlers.outcome import CommandOutcome
from readmodels.bus import Query
from readmodels.consistency import Consistency
from readmodels.session import ReadSession
from schema.services import Services

T = TypeVar("T")


@dataclass(kw_only=True)
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | WebSocket
    # the operation's reads share it; OperationReads opens and closes it
    session: ReadSession | None = None
    # what the operation's reads had to give up waiting for, for extensions.consistency
    stale_reads: list[Consistency] = field(default_factory=list)

    async def dispatch(self, command: OrderCommand) -> CommandOutcome:
        return await self.services.commands.dispatch(command)

    async def ask(self, query: Query[T]) -> T:
        result = await self.services.queries.ask(query, self.session)
        self._note(result.consistency)
        return result.value

    async def await_every_projection(self, position: int, seconds: float) -> None:
        """Wait until every projection has applied `position` (read-your-writes)."""
        self._note(await self.services.waiter.wait_for(position, None, seconds))

    def _note(self, consistency: Consistency) -> None:
        if consistency.stale:
            self.stale_reads.append(consistency)


Info = StrawberryInfo[Context, Any]
