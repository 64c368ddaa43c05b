"""The service's spans (the `otel` extra): one server span per GraphQL operation, a span per
command and per append under it, and a span per projection batch that links to the
commands whose events it applied, through the `traceparent` each event's metadata keeps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from opentelemetry import context, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from eventstore import EventStore, LoggedEvent
from eventstore.log_details import metadata_between
from schema.observability.tracing_setup import TracingSetup

# only the W3C trace context travels in events: baggage may hold anything a client sent
_PROPAGATOR = TraceContextTextMapPropagator()
_TRACE_KEYS = ("traceparent", "tracestate")
# the SDK keeps at most 128 links a span
MAX_LINKS = 128


class ActiveSpan:
    """A span that is the current one until `end`."""

    __slots__ = ("_token", "span")

    def __init__(self, span: Span) -> None:
        self.span = span
        self._token = context.attach(trace.set_span_in_context(span))

    def end(self, error: BaseException | None = None, failed: bool = False) -> None:
        if failed:
            self.span.set_status(Status(StatusCode.ERROR))
            if error is not None:
                self.span.record_exception(error)
        context.detach(self._token)
        self.span.end()

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")


class Tracing:
    def __init__(self, setup: TracingSetup) -> None:
        self.setup = setup
        self._tracer = setup.provider.get_tracer("cqrs-orders")

    def operation(
        self, headers: Mapping[str, str] | None, kind: str, name: str | None
    ) -> ActiveSpan:
        """A GraphQL operation's server span, a child of the caller's trace if its request
        said one (`traceparent`). Named by the operation's type, as the GraphQL semantic
        conventions allow: the operation's name is the client's text, kept as an attribute;
        the document is not kept (its literals may be values)."""
        parent = None if headers is None else _PROPAGATOR.extract(headers)
        attributes: dict[str, AttributeValue] = {"graphql.operation.type": kind}
        if name:
            attributes["graphql.operation.name"] = name
        span = self._tracer.start_span(kind, parent, kind=SpanKind.SERVER, attributes=attributes)
        return ActiveSpan(span)

    def command(self, command_type: str, command_id: str, order_id: str) -> ActiveSpan:
        attributes = {
            "cqrs.command": command_type,
            "cqrs.command_id": command_id,
            "cqrs.order_id": order_id,
        }
        return ActiveSpan(self._tracer.start_span(f"command {command_type}", attributes=attributes))

    def event_metadata(self) -> Mapping[str, str]:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier

    @contextlib.contextmanager
    def appending(self, stream_id: str, events: int) -> Iterator[object]:
        attributes: dict[str, AttributeValue] = {
            "cqrs.stream_id": stream_id,
            "cqrs.event_count": events,
        }
        with self._tracer.start_as_current_span("append", attributes=attributes) as span:
            yield span

    async def batch(
        self, store: EventStore, projection: str, events: Sequence[LoggedEvent]
    ) -> ActiveSpan:
        """A projection batch's span, linked to the spans that appended its events."""
        first, last = events[0].position, events[-1].position
        metadata = await metadata_between(store.engine, first - 1, last)
        links = _links(metadata)
        attributes: dict[str, AttributeValue] = {
            "cqrs.projection": projection,
            "cqrs.batch.events": len(events),
            "cqrs.batch.first_position": first,
            "cqrs.batch.last_position": last,
        }
        span = self._tracer.start_span(
            f"project {projection}",
            context.Context(),  # a root: its causes are links, one per command
            attributes=attributes,
            links=links,
        )
        return ActiveSpan(span)

    def shutdown(self) -> None:
        self.setup.shutdown()


def _links(metadata: Sequence[Mapping[str, object]]) -> list[Link]:
    seen: dict[str, Link] = {}
    for each in metadata:
        carrier = {key: str(each[key]) for key in _TRACE_KEYS if key in each}
        parent = carrier.get("traceparent")
        if parent is None or parent in seen:
            continue
        span_context = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
        if span_context.is_valid:
            seen[parent] = Link(span_context)
        if len(seen) == MAX_LINKS:
            break
    return list(seen.values())
