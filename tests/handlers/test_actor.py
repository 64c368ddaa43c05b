"""An actor is staff by role, and is recorded as plain JSON."""

from __future__ import annotations

from handlers.actor import ANONYMOUS, STAFF_ROLE, SYSTEM, Actor


def test_staff_is_a_role() -> None:
    assert Actor(sub="sam", roles=("support", STAFF_ROLE)).is_staff
    assert not Actor(sub="ada").is_staff
    assert not Actor(sub="staff").is_staff  # a name is not a role


def test_operators_and_unauthenticated_callers_act_as_staff() -> None:
    assert SYSTEM.is_staff
    assert ANONYMOUS.is_staff


def test_an_actor_is_recorded_as_json_values() -> None:
    assert Actor(sub="ada", roles=("a", "b")).as_metadata() == {"sub": "ada", "roles": ["a", "b"]}
