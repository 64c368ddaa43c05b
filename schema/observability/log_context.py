"""What a log line should say about the work it comes from: the request, its operation, the
command, the projection batch. A context variable holds one small dict per unit of work.

A request's middleware begins a dict and the code under it adds to that same dict (`bind`),
so the access line written when the request ends knows its operation and command too. A
websocket operation or a projection batch begins its own (`scope`), as concurrent
operations on one connection must not share one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

# the keys a JSON line may carry beside time, level, logger and message, in their order
FIELDS = (
    "request_id",
    "trace_id",
    "operation_type",
    "operation_name",
    "command",
    "command_id",
    "stream_id",
    "position",
    "projection",
)

LogFields = dict[str, str | int]

_current: ContextVar[LogFields | None] = ContextVar("log_fields", default=None)


def current() -> LogFields | None:
    return _current.get()


def bind(**fields: str | int) -> None:
    """Add to the current unit of work's fields (nothing outside one)."""
    held = _current.get()
    if held is not None:
        held.update(fields)


@contextlib.contextmanager
def scope(**fields: str | int) -> Iterator[LogFields]:
    """A unit of work of its own within the block, starting from the enclosing one's fields."""
    own = {**(_current.get() or {}), **fields}
    token = _current.set(own)
    try:
        yield own
    finally:
        _current.reset(token)
