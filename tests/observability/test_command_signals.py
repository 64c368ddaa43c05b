"""The command bus's observer: retries on a moved stream, and each outcome's label."""

from __future__ import annotations

from uuid import uuid4

import pytest

from eventstore import ConcurrencyError
from handlers.actor import SYSTEM, Actor
from handlers.bus import CommandBus
from handlers.commands import CancelOrder
from handlers.errors import (
    Forbidden,
    InvalidInput,
    InvalidState,
    OrderNotFound,
    VersionConflict,
)
from handlers.outcome import CommandOutcome
from schema.observability.command_signals import CommandSignals
from schema.observability.metrics import process_metrics

METRICS = process_metrics()


def sample(name: str, **labels: str) -> float:
    return METRICS.registry.get_sample_value(name, labels) or 0.0


def outcome_of(command: CancelOrder, duplicate: bool = False) -> CommandOutcome:
    return CommandOutcome(
        command_id=command.command_id,
        order_id=command.order_id,
        stream_id=f"Order-{command.order_id}",
        version=2,
        position=2,
        duplicate=duplicate,
    )


async def test_each_retry_on_a_moved_stream_is_counted_once() -> None:
    conflicts = 3

    async def handler(command: CancelOrder, actor: Actor) -> CommandOutcome:
        nonlocal conflicts
        if conflicts:
            conflicts -= 1
            raise ConcurrencyError(f"Order-{command.order_id}", 1)
        return outcome_of(command)

    bus = CommandBus(max_backoff=0.0, observer=CommandSignals(METRICS, None, log_fields=False))
    bus.register(CancelOrder, handler)
    retries = sample("cqrs_command_retries_total", command="CancelOrder")
    handled = sample("cqrs_commands_total", command="CancelOrder", outcome="ok")

    await bus.dispatch(CancelOrder(order_id=uuid4(), reason="changed my mind"), SYSTEM)

    assert sample("cqrs_command_retries_total", command="CancelOrder") - retries == 3
    assert sample("cqrs_commands_total", command="CancelOrder", outcome="ok") - handled == 1


@pytest.mark.parametrize(
    ("refusal", "outcome"),
    [
        (InvalidInput("no", "reason"), "bad_user_input"),
        (OrderNotFound(uuid4()), "not_found"),
        (VersionConflict(uuid4(), 3, 4), "conflict"),
        (InvalidState("shipped"), "invalid_state"),
        (Forbidden("not yours"), "forbidden"),
        (RuntimeError("a bug"), "error"),
    ],
)
async def test_a_refused_or_failed_command_is_counted_by_its_outcome(
    refusal: Exception, outcome: str
) -> None:
    async def handler(command: CancelOrder, actor: Actor) -> CommandOutcome:
        raise refusal

    bus = CommandBus(observer=CommandSignals(METRICS, None, log_fields=False))
    bus.register(CancelOrder, handler)
    before = sample("cqrs_commands_total", command="CancelOrder", outcome=outcome)
    durations = sample("cqrs_command_duration_seconds_count", command="CancelOrder")

    with pytest.raises(type(refusal)):
        await bus.dispatch(CancelOrder(order_id=uuid4(), reason="x"), SYSTEM)

    assert sample("cqrs_commands_total", command="CancelOrder", outcome=outcome) - before == 1
    assert sample("cqrs_command_duration_seconds_count", command="CancelOrder") - durations == 1
