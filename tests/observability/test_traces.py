"""Traces with the SDK's in-memory exporter, on both backends: a mutation's server span, its
command's span and its append's under it, the database's spans, the trace context in the
event's metadata, and each projection batch that applied the event linking to the command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from eventstore import EventStore
from schema.app import create_app
from schema.observability.settings import ObservabilitySettings
from schema.settings import Settings
from tests.schema.service import REQUEST_TIMEOUT, create_order_input, unique

CREATE = """
mutation Create($input: CreateOrderInput!) {
  createOrder(input: $input) { orderId streamId position order { status } }
}
"""
CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"
PROJECTIONS = ("order_views", "customer_summaries")


async def served(database_url: str, tracing: bool) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=database_url, observability=ObservabilitySettings(tracing=tracing)
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def create(app: Starlette) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", timeout=REQUEST_TIMEOUT
    ) as client:
        response = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": create_order_input(unique("trace"))}},
            headers={"traceparent": CALLER},
        )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()
    created: dict[str, Any] = response.json()["data"]["createOrder"]
    return created


async def ended(spans: InMemorySpanExporter, names: Sequence[str]) -> list[ReadableSpan]:
    """Every span ended so far, once spans of all these names have ended (bounded wait:
    a batch's span ends after the commit that released the mutation's wait)."""
    async with asyncio.timeout(REQUEST_TIMEOUT):
        while not set(names) <= {span.name for span in spans.get_finished_spans()}:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return list(spans.get_finished_spans())


def one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


async def test_a_command_is_followed_from_its_mutation_to_each_projection_batch(
    engine: AsyncEngine, database_url: str, spans: InMemorySpanExporter
) -> None:
    async for app in served(database_url, tracing=True):
        created = await create(app)
        batches = [f"project {name}" for name in PROJECTIONS]
        finished = await ended(spans, ["mutation", "command CreateOrder", "append", *batches])
    operation = one(finished, "mutation")
    command = one(finished, "command CreateOrder")
    append = one(finished, "append")
    command_context = command.get_span_context()
    assert command_context is not None

    assert operation.kind is SpanKind.SERVER
    assert dict(operation.attributes or {}) == {
        "graphql.operation.type": "mutation",
        "graphql.operation.name": "Create",
    }
    assert format(command_context.trace_id, "032x") == CALLER_TRACE
    assert parent_id(command) == operation.get_span_context().span_id  # type: ignore[union-attr]
    assert parent_id(append) == command_context.span_id
    assert (command.attributes or {})["cqrs.outcome"] == "ok"
    assert (append.attributes or {})["cqrs.stream_id"] == created["streamId"]
    in_the_trace = [
        s for s in finished if s.context and s.context.trace_id == command_context.trace_id
    ]
    database = [
        s for s in in_the_trace if {"db.system", "db.system.name"} & set(s.attributes or {})
    ]
    # PostgreSQL: the append's statement under the append. SQLite: the append runs on the
    # group-commit writer's own thread and connection, which no instrumentation sees; the
    # statements of the operation's reads are in the trace
    spans_in_trace = {s.context.span_id for s in in_the_trace if s.context}
    assert database and all(parent_id(s) in spans_in_trace for s in database)
    if not database_url.startswith("sqlite"):
        assert any(parent_id(s) == append.context.span_id for s in database if append.context)

    store = EventStore(engine)
    (event,) = await store.read_stream(created["streamId"])
    assert event.metadata["traceparent"] == (
        f"00-{command_context.trace_id:032x}-{command_context.span_id:016x}-01"
    )
    for name in batches:
        batch = one(finished, name)
        assert batch.parent is None
        linked = {(link.context.trace_id, link.context.span_id) for link in batch.links}
        assert (command_context.trace_id, command_context.span_id) in linked
        assert (batch.attributes or {})["cqrs.batch.last_position"] >= created["position"]
    assert UUID(created["orderId"])


async def test_without_traces_asked_for_no_span_and_no_trace_context_is_kept(
    engine: AsyncEngine, database_url: str, spans: InMemorySpanExporter
) -> None:
    async for app in served(database_url, tracing=False):
        created = await create(app)

    (event,) = await EventStore(engine).read_stream(created["streamId"])
    assert "traceparent" not in event.metadata
    assert spans.get_finished_spans() == ()
