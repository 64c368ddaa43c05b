"""Domain errors: each one is something the caller can act on, and appends nothing."""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """A command was refused."""


class InvalidInput(DomainError):
    """The command itself is malformed; `field` names the offending input when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class OrderNotFound(DomainError):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"no order with id {order_id}")
        self.order_id = order_id


class Forbidden(DomainError):
    """The actor may not issue this command (whatever state its order is in)."""


class VersionConflict(DomainError):
    """The order is not at the version the caller expected (or kept changing under it)."""

    def __init__(self, order_id: UUID, expected: int | None, actual: int | None = None) -> None:
        if expected is None:
            message = f"order {order_id} kept changing concurrently; retry the command"
        elif actual is None:
            message = f"order {order_id} is no longer at version {expected}"
        else:
            message = f"order {order_id} is at version {actual}, not {expected}"
        super().__init__(message)
        self.order_id = order_id
        self.expected = expected
        self.actual = actual


class InvalidState(DomainError):
    """The order's status forbids the command."""


class UnknownCommand(TypeError):
    """A command type with no registered handler: a wiring bug, not a client error."""
