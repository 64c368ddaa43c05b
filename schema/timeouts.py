"""The timeoutMs arguments: validated and turned into seconds."""

from __future__ import annotations

from schema.errors import ClientError

MAX_TIMEOUT_MS = 60_000


def timeout_seconds(timeout_ms: int | None, field: str = "timeoutMs") -> float:
    """A waiting bound in seconds; a client may not hold a request open beyond a minute."""
    if timeout_ms is None:
        return 5.0
    if not 0 <= timeout_ms <= MAX_TIMEOUT_MS:
        raise ClientError(f"{field} must be between 0 and {MAX_TIMEOUT_MS}", field=field)
    return timeout_ms / 1000
