"""PERSISTED_OPERATIONS: which documents the service runs."""

from __future__ import annotations

import enum
import os

from schema.invalid_setting import InvalidSetting


class PersistedMode(enum.StrEnum):
    # any document, and Apollo's automatic persisted queries (hash, then hash + document)
    AUTOMATIC = "automatic"
    # only documents registered with `cqrs-orders operations add`, by hash or in full
    ONLY = "only"
    # any document; a request naming a hash is refused (PERSISTED_QUERY_NOT_SUPPORTED)
    OFF = "off"

    @classmethod
    def from_environment(cls) -> PersistedMode:
        value = (os.environ.get("PERSISTED_OPERATIONS") or cls.AUTOMATIC).strip().lower()
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(mode.value for mode in cls)
            raise InvalidSetting(
                f"PERSISTED_OPERATIONS must be one of {choices}, not {value!r}"
            ) from None
