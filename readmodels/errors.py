"""Errors of the read side that a client can act on."""

from __future__ import annotations


class InvalidQuery(Exception):
    """A query argument is out of range or unknown; `field` names it (snake_case)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
