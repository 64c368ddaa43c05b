"""The write side wired as the service wires it, on each test's real event store."""

from __future__ import annotations

import pytest

from eventstore import EventStore
from handlers.bus import CommandBus
from handlers.handler import register_order_handlers


@pytest.fixture
def bus(store: EventStore) -> CommandBus:
    bus = CommandBus()
    register_order_handlers(bus, store)
    return bus
