"""A command's fingerprint is stored with it: it must not change between releases, or a
retry of a command handled before an upgrade would pass for a reused command id."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from uuid import UUID, uuid4

from handlers.commands import AddOrderItem, CancelOrder, fingerprint
from tests.handlers.builders import MUG, TEAPOT, create_order

ORDER_ID = UUID("6f1c1c3e-4f7e-4f1e-9c55-0d3c1d1b2a10")


def test_fingerprints_are_those_stored_by_earlier_releases() -> None:
    assert fingerprint(create_order(MUG, TEAPOT)) == (
        "04e4e47dfd4cb32d8ab0009e38c3d32135694081c3bc3e3f6baf71262091ac58"
    )
    add = AddOrderItem(
        order_id=ORDER_ID,
        product_id="mug",
        quantity=3,
        unit_price=Decimal("9.99"),
        expected_version=2,
    )
    assert fingerprint(add) == "d49157bb5c982f2c4e8077f7540b838081f936bd47b3a7dfcb9244e57904dbdf"
    cancel = CancelOrder(order_id=ORDER_ID, reason="too slow")
    assert fingerprint(cancel) == (
        "4955ccf08f663afd50bcc78bcfe8971af1a18118b31f3cbac7ea1c8e8b491e8d"
    )


def test_what_the_service_chooses_is_left_out() -> None:
    first = create_order()
    retry = dataclasses.replace(first, order_id=uuid4(), command_id=uuid4())
    assert fingerprint(retry) == fingerprint(first)


def test_what_the_client_asks_is_in() -> None:
    assert fingerprint(create_order(MUG)) != fingerprint(create_order(TEAPOT))
    assert fingerprint(create_order(customer_id="bob")) != fingerprint(create_order())
