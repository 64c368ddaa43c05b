"""Checkpoint commits of every process, heard through LISTEN, published to this process's hub.

This is what lets a subscriber or a `minPosition` query on one API process be woken by a
projection that commits in another (a `cqrs-orders project` worker, another replica).
Each checkpoint change sends its notification in its own transaction (checkpoints.py),
so what is heard has committed. Notifications sent while the LISTEN connection was down
are lost: after every (re)connect the feed reads the checkpoint table once and publishes
that, and the hub keeps whichever status is newer by revision.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from eventstore import EventStore
from eventstore.database import PgListener
from readmodels.results import ProjectionState, ProjectionStatus
from readmodels.running.append_watch import LISTEN_WAIT
from readmodels.status.checkpoints import CHECKPOINT_CHANNEL
from readmodels.status.status_hub import StatusHub
from readmodels.status.statuses import read_statuses

log = logging.getLogger(__name__)


class CheckpointFeed:
    def __init__(
        self,
        store: EventStore,
        hub: StatusHub,
        names: Sequence[str],
        head: Callable[[], int],
    ) -> None:
        self._store = store
        self._hub = hub
        self._names = tuple(names)
        self._head = head
        self._listener: PgListener | None = None

    @property
    def connected(self) -> asyncio.Event | None:
        """Set while LISTEN is up (None where there is nothing to listen to: SQLite)."""
        return None if self._listener is None else self._listener.connected

    async def start(self) -> None:
        """Listen (PostgreSQL only: on SQLite every projection runs in this process)."""
        if not self._store.is_postgres:
            return
        self._listener = PgListener(
            self._store.engine.url,
            {CHECKPOINT_CHANNEL: self._on_notify},
            on_connected=self.refresh,
        )
        # like AppendWatch: once up, no commit goes unheard; until then (or if it cannot
        # connect yet) waits read the table, and the feed re-reads it on connecting
        if not await self._listener.start_listening(LISTEN_WAIT):
            log.warning("LISTEN for checkpoints is not connected yet; retrying in the background")

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()

    async def refresh(self) -> None:
        """Publish every checkpoint as the table holds it now."""
        for status in await read_statuses(self._store, self._names):
            self._hub.publish(status)

    def _on_notify(self, payload: str) -> None:
        try:
            status = parse_announcement(payload, self._head())
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed checkpoint notification: %.200r", payload)
            return
        if status.name in self._names:
            self._hub.publish(status)


def parse_announcement(payload: str, head: int) -> ProjectionStatus:
    """A status from a checkpoint notification (checkpoints._announcement)."""
    fields = json.loads(payload)
    position = int(fields["position"])
    return ProjectionStatus(
        name=str(fields["name"]),
        position=position,
        head_position=max(head, position),
        state=ProjectionState(fields["state"]),
        last_error=fields["last_error"],
        updated_at=datetime.fromisoformat(fields["updated_at"]).astimezone(UTC),
        revision=int(fields["revision"]),
        version=int(fields["version"]),
    )
