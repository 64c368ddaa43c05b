"""Scrapes of /metrics, read with prometheus-client's own parser."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.schema.service import REQUEST_TIMEOUT

# how long a gauge read from the database may take to show what the test made happen
SETTLE_SECONDS = 20.0
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Scrape:
    """Every sample of one scrape: (name, labels) -> value."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    families: dict[str, str]  # family name -> type

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a series not (yet) exported, as Prometheus reads it."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str, **labels: str) -> bool:
        return (name, frozenset(labels.items())) in self.samples

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [dict(labels) for sample, labels in self.samples if sample == name]


def parse(text: str) -> Scrape:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    families: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"a series twice in one scrape: {key}"
            samples[key] = sample.value
    return Scrape(samples, families)


async def scrape(base_url: str, path: str = "/metrics") -> Scrape:
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        response = await client.get(f"{base_url}{path}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


async def scrape_until(
    base_url: str, condition: Callable[[Scrape], bool], what: str, path: str = "/metrics"
) -> Scrape:
    """Scrape until `condition` holds, for at most SETTLE_SECONDS."""
    latest = None
    try:
        async with asyncio.timeout(SETTLE_SECONDS):
            # a scrape is a poll: nothing announces a new value
            while not condition(latest := await scrape(base_url, path)):  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise AssertionError(
            f"not within {SETTLE_SECONDS} s: {what}; last scrape: {latest}"
        ) from None
    return latest


def increase(after: Scrape, before: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)
