"""One update to many subscribers: executed and encoded once, not once per subscriber.

Every subscriber of projectionUpdates receives the same status from the status hub. Its
resolver yields one shared object per status (`FanOut.shared_of`), each subscriber's
execution of the same document with the same variables on that object returns the first
one's result (`SharedEventExecutor`), and the JSON of that result's data is encoded once
(`FanOut.encode_message`): the messages of graphql-transport-ws (`next`) and graphql-ws (`data`)
differ between subscribers only in the operation id. Measured before this, each
subscriber cost about 300 us of server time per update at 1,000 subscribers, most of it
in executing and encoding the same selection again.

Each subscriber keeps its own stream, hub subscription, errors and cleanup: only the
work whose outcome cannot differ between them is shared.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import ExecutionResult
from graphql.language import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")
S = TypeVar("S")

_ENCODED_KEPT = 64
_STREAMED = ("next", "data")  # graphql-transport-ws, graphql-ws


class FanOut:
    """The shared executions and encodings of one schema: its executor class reads them."""

    def __init__(self) -> None:
        # results of shared payloads, by payload identity, then by (document, operation
        # name, variables); an entry goes with its payload, once no subscriber's stream holds
        # it any more (GraphQL objects compare by value and are unhashable, hence identities)
        self._results: dict[int, dict[tuple[str, str, str], Any]] = {}
        # encoded data of recent shared results, by identity (the data is held, so ids stay
        # unique)
        self._encoded: OrderedDict[int, tuple[object, str]] = OrderedDict()
        # the shared payload made of each source, by key: (source, payload)
        self._latest: dict[str, tuple[object, Any]] = {}
        self.execution_context_class: type[SharedEventExecutor] = type(
            "SharedEventExecutor", (SharedEventExecutor,), {"fanout": self}
        )

    def shared(self, payload: T) -> T:
        """Mark a subscription payload that many subscribers receive as the same object."""
        if id(payload) not in self._results:
            self._results[id(payload)] = {}
            weakref.finalize(payload, self._results.pop, id(payload), None)
        return payload

    def shared_of(self, key: str, source: S, build: Callable[[S], T]) -> T:
        """The shared payload built of `source`, the same object for as long as `key`'s
        source stays the same object: every subscriber of a hub's status gets one payload."""
        known = self._latest.get(key)
        if known is None or known[0] is not source:
            known = (source, self.shared(build(source)))
            self._latest[key] = known
        payload: T = known[1]
        return payload

    def results_of(self, payload: object) -> dict[tuple[str, str, str], Any] | None:
        return self._results.get(id(payload))

    def encode_message(self, message: object) -> str | None:
        """The JSON of a streamed result message whose data came from a shared execution,
        with that data encoded once for all its subscribers; None for any other message."""
        if not isinstance(message, dict) or message.get("type") not in _STREAMED:
            return None
        payload = message.get("payload")
        if not isinstance(payload, dict) or payload.keys() != {"data"}:
            return None  # errors or extensions may differ between subscribers
        data = payload["data"]
        cached = self._encoded.get(id(data))
        if cached is None or cached[0] is not data:
            if not self._is_shared_data(data):
                return None
            cached = (data, json.dumps(data, separators=(",", ":")))
            self._encoded[id(data)] = cached
            if len(self._encoded) > _ENCODED_KEPT:
                self._encoded.popitem(last=False)
        return (
            f'{{"id":{json.dumps(message["id"])},"type":"{message["type"]}",'
            f'"payload":{{"data":{cached[1]}}}}}'
        )

    def _is_shared_data(self, data: object) -> bool:
        return any(
            isinstance(result, ExecutionResult) and result.data is data
            for results in self._results.values()
            for result in results.values()
        )


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a subscription event whose payload is `shared` once per document, operation
    name and variables; every other operation as usual. Each FanOut has its own subclass."""

    fanout: FanOut
    _shared_key: tuple[str, str, str] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        results = self.fanout.results_of(payload)
        done = None if results is None else results.get(self._key())
        # the result is known: skip copying this executor for the event
        return _Executed(done) if done is not None else super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        results = (
            self.fanout.results_of(self.root_value)
            if self.operation.operation is OperationType.SUBSCRIPTION
            else None
        )
        if results is None:
            return super().execute_operation(serially)
        result = results.get(self._key())
        if result is None:
            result = super().execute_operation(serially)
            if self.is_awaitable(result):
                # a future: every subscriber awaits the one execution
                result = asyncio.ensure_future(result)
            results[self._key()] = result
        return result

    def _key(self) -> tuple[str, str, str]:
        if self._shared_key is None:
            location = self.operation.loc
            self._shared_key = (
                location.source.body if location is not None else str(id(self.operation)),
                self.operation.name.value if self.operation.name is not None else "",
                json.dumps(self.variable_values.coerced, sort_keys=True, default=str),
            )
        return self._shared_key


class _Executed:
    """A subscription event's executor whose result is already known."""

    def __init__(self, result: Any) -> None:
        self._result = result

    def execute_operation(self, serially: bool | None = None) -> Any:
        return self._result
