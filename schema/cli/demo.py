"""`cqrs-orders demo --orders N`: realistic orders through the command bus, to explore."""

from __future__ import annotations

import argparse
import asyncio
import random
from decimal import Decimal
from typing import Any

from handlers.actor import SYSTEM
from handlers.bus import CommandBus
from handlers.commands import (
    AddOrderItem,
    CancelOrder,
    CreateOrder,
    OrderCommand,
    RemoveOrderItem,
    ShipOrder,
)
from handlers.events import Address, OrderLine
from handlers.handler import register_order_handlers
from schema.bootstrap import Purpose, open_database
from schema.cli.progress import Progress
from schema.settings import Settings

CATALOG = {
    "mug-classic": "9.99",
    "mug-travel": "19.50",
    "teapot-cast-iron": "54.00",
    "tea-earl-grey": "7.25",
    "tea-sencha": "11.80",
    "kettle-electric": "39.90",
    "coffee-beans-1kg": "24.00",
    "grinder-burr": "89.00",
    "filter-papers": "3.49",
    "french-press": "29.95",
    "espresso-cups-4": "22.00",
    "milk-frother": "15.75",
    "coasters-cork-6": "6.40",
    "tray-bamboo": "18.20",
    "gift-card-50": "50.00",
}
PLACES = [
    ("London", "GB", "SW1A 1AA"),
    ("Paris", "FR", "75001"),
    ("Berlin", "DE", "10115"),
    ("Amsterdam", "NL", "1012 JS"),
    ("Lisbon", "PT", "1100-148"),
    ("Dublin", "IE", "D02 X285"),
    ("Madrid", "ES", "28013"),
    ("Vienna", "AT", "1010"),
    ("Oslo", "NO", "0150"),
]
NAMES = [
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Margaret Hamilton",
    "Ken Thompson",
    "Frances Allen",
    "John Backus",
]
CARRIERS = ["DHL", "UPS", "PostNL", "La Poste", "Royal Mail"]
CONCURRENCY = 8


def add_parser(subcommands: Any) -> None:
    command: argparse.ArgumentParser = subcommands.add_parser(
        "demo", help="load N realistic orders through the command bus"
    )
    command.add_argument("--orders", type=int, default=1000, metavar="N")
    command.add_argument("--seed", type=int, default=7, help="same seed, same orders")
    command.set_defaults(run=run)


def order_story(rng: random.Random, index: int) -> list[OrderCommand]:
    """One order's life: created, maybe changed, then often shipped or cancelled."""
    products = rng.sample(sorted(CATALOG), rng.randint(1, 4))
    city, country, postal_code = rng.choice(PLACES)
    name = rng.choice(NAMES)
    create = CreateOrder(
        customer_id=f"customer-{rng.randint(1, max(1, index // 5 + 20)):05d}",
        items=tuple(
            OrderLine(product_id=p, quantity=rng.randint(1, 3), unit_price=Decimal(CATALOG[p]))
            for p in products
        ),
        shipping_address=Address(
            name=name,
            line1=f"{rng.randint(1, 250)} High Street",
            line2=None,
            city=city,
            postal_code=postal_code,
            country=country,
        ),
    )
    story: list[OrderCommand] = [create]
    order_id = create.order_id
    if rng.random() < 0.3:
        extra = rng.choice(sorted(set(CATALOG) - set(products)))
        story.append(
            AddOrderItem(
                order_id=order_id, product_id=extra, quantity=1, unit_price=Decimal(CATALOG[extra])
            )
        )
    if len(products) > 1 and rng.random() < 0.15:
        story.append(RemoveOrderItem(order_id=order_id, product_id=products[0]))
    fate = rng.random()
    if fate < 0.55:
        story.append(
            ShipOrder(
                order_id=order_id,
                carrier=rng.choice(CARRIERS),
                tracking_number=f"TRK{rng.randrange(10**9):09d}",
            )
        )
    elif fate < 0.7:
        story.append(CancelOrder(order_id=order_id, reason="customer changed their mind"))
    return story


async def run(arguments: argparse.Namespace) -> int:
    if arguments.orders < 1:
        raise SystemExit("cqrs-orders demo: --orders must be at least 1")
    database = await open_database(Settings.from_environment(), Purpose.DEMO)
    store = database.store
    bus = CommandBus()
    register_order_handlers(bus, store)
    rng = random.Random(arguments.seed)
    stories = [order_story(rng, index) for index in range(arguments.orders)]
    progress = Progress(arguments.orders, "orders")
    queue: asyncio.Queue[list[OrderCommand]] = asyncio.Queue()
    for story in stories:
        queue.put_nowait(story)

    async def work() -> None:
        while not queue.empty():
            for command in queue.get_nowait():
                await bus.dispatch(command, SYSTEM)
            progress.advance()

    store.start()
    try:
        await asyncio.gather(*(work() for _ in range(CONCURRENCY)))
    finally:
        progress.finish()
        await database.close()
    commands = sum(len(story) for story in stories)
    print(
        f"loaded {arguments.orders:,} orders ({commands:,} commands); "
        "start `cqrs-orders serve` and open http://127.0.0.1:8000/graphql"
    )
    return 0
