"""Every place the service reaches into Strawberry's (and graphql-core's) internals.

Each hook is measured or fixes a bug of the pinned version (strawberry-graphql ~=0.341);
tests/schema/test_strawberry_hooks.py exercises each one, so that an upgrade that changes
an internal breaks there, by name, and not somewhere in the middle of a request:

- `FanOut` (fanout.py): one execution and one encoding of a status for every subscriber,
  through a subclass of Strawberry's execution context.
- `built_directly` (input_building.py): input objects built from graphql-core's coerced
  values through the definition's `from_input` hook.
- `parse` / `validation_errors` (documents.py): parser and validation caches, with the
  depth and alias limits, from Strawberry's extension modules.
- `ClosingGraphQLWSHandler` (graphql_ws.py): the legacy graphql-ws handler, subclassed to
  close each subscription's stream.
"""

from __future__ import annotations

from schema.strawberry_hooks.fanout import FanOut
from schema.strawberry_hooks.graphql_ws import ClosingGraphQLWSHandler
from schema.strawberry_hooks.input_building import built_directly


class StrawberryHooks:
    """The hooks of one app, created with it: its fan-out state lives as long as the app."""

    graphql_ws_handler_class = ClosingGraphQLWSHandler

    def __init__(self) -> None:
        self.fanout = FanOut()

    @property
    def execution_context_class(self) -> type:
        return self.fanout.execution_context_class


__all__ = ["ClosingGraphQLWSHandler", "FanOut", "StrawberryHooks", "built_directly"]
