"""Appends per second on PostgreSQL: EventStore.append next to a raw INSERT of the same rows.

    python -m bench.append [--seconds 5] [--repeats 3] [--postgres-url URL]

It creates a scratch database on the server (admin URL: --postgres-url, else
$BENCH_POSTGRES_URL, else the local server), runs the migrations, measures, prints a table,
writes it to bench/results/append.md and drops the database.

Each mechanism runs 1-event and 10-event commands at 1 and 16 concurrent writers:

raw-insert         the baseline: one autocommit INSERT statement per command writing the same
                   rows (the events and the command record) into plain tables of the same
                   columns and unique constraints, positions from a bigserial. Not gap-safe,
                   no expected-version check: the most a bare driver gets out of the server.
raw-insert-events  the same without the command record, for reference.
store.append       EventStore.append, the real path: SQLAlchemy, gap-safe xid positions.
raw-xid            the store's statement (a copy of postgres.APPEND, which is in flux)
                   through a bare asyncpg connection, autocommit: its distance to
                   store.append is what the store's Python and driver layers add, its
                   distance to raw-insert what the gap-safe SQL adds.
advisory-lock      the alternative gap-safety: the store's statement with a sequence position,
                   every append serialized by pg_advisory_xact_lock until it has committed.

Every writer appends to its own streams, so no append meets a version conflict. By default
a writer keeps one stream and advances its version (--streams advance): an order receives
several commands in its life and every command but the first pays the expected-version
check, so this is the realistic and the costlier case. --streams new starts a new stream at
every command, which skips the check (version 0).

The cells of one repetition run back to back and the repetitions interleave, so a
mechanism and its baseline are measured minutes apart at most, under the same background
load; the table shows medians over the repetitions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import re
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

import eventstore.postgres
from bench.database import default_admin_url, scratch_database, sqlalchemy_url
from bench.pinning import pin_load_generator
from bench.report import Figure
from eventstore import EventStore, NewEvent, create_engine
from migrations import upgrade

RESULTS = Path(__file__).resolve().parent / "results" / "append.md"
STREAM_TYPE = "Order"
# Handlers store a sha256 of the command; its value does not matter here, its size does.
FINGERPRINT = hashlib.sha256(b"bench.append").hexdigest()
ADVISORY_LOCK_KEY = 7_305_001

# --- SQL of the raw mechanisms -------------------------------------------------------------
# Written with :name parameters like the store's statement, turned into $n by RawStatement.

_EVENT_ROWS = """
    FROM unnest(CAST(:event_ids AS uuid[]), CAST(:event_types AS text[]),
                CAST(:schema_versions AS smallint[]), CAST(:datas AS text[]),
                CAST(:metadatas AS text[]))
         WITH ORDINALITY AS e(event_id, event_type, schema_version, data, metadata, ord)"""

_EVENT_VALUES = """e.event_id, CAST(:stream_id AS text), CAST(:stream_type AS text),
           CAST(:expected_version AS integer) + e.ord, e.event_type, e.schema_version,
           e.data::json, e.metadata::json, CAST(:recorded_at AS timestamptz)"""

_EVENT_COLUMNS = """event_id, stream_id, stream_type, version,
        event_type, schema_version, data, metadata, recorded_at"""

_COMMAND_VALUES = """CAST(:command_id AS uuid), CAST(:fingerprint AS text),
       CAST(:stream_id AS text), max(version), max(position), CAST(:recorded_at AS timestamptz)"""

_COMMAND_COLUMNS = "command_id, fingerprint, stream_id, version, position, handled_at"

PLAIN_EVENTS_INSERT = f"""
INSERT INTO bench_plain_events ({_EVENT_COLUMNS})
SELECT {_EVENT_VALUES}
{_EVENT_ROWS}
"""

PLAIN_INSERT = f"""
WITH appended AS (
    INSERT INTO bench_plain_events ({_EVENT_COLUMNS})
    SELECT {_EVENT_VALUES}
    {_EVENT_ROWS}
    RETURNING position, version
)
INSERT INTO bench_plain_commands ({_COMMAND_COLUMNS})
SELECT {_COMMAND_VALUES}
FROM appended
RETURNING version, position
"""

# The store's append statement (eventstore.store._PG_APPEND at 70ebd91, since moved to
# eventstore.postgres.APPEND), copied rather than imported so that the bench keeps running
# while the store's internals change: positions from the transaction id, the
# expected-version check and the command record in one.
XID_APPEND = f"""
WITH appended AS (
    INSERT INTO events (position, {_EVENT_COLUMNS})
    SELECT pg_current_xact_id()::text::bigint * 1024 + e.ord - 1, {_EVENT_VALUES}
    {_EVENT_ROWS}
    WHERE CAST(:expected_version AS integer) = 0
       OR EXISTS (SELECT 1 FROM events
                  WHERE stream_id = CAST(:stream_id AS text)
                    AND version = CAST(:expected_version AS integer))
    RETURNING position, version
)
INSERT INTO handled_commands ({_COMMAND_COLUMNS})
SELECT {_COMMAND_VALUES}
FROM appended HAVING count(*) > 0
ON CONFLICT (command_id) DO NOTHING
RETURNING version, position
"""

# The store's statement with a sequence position taken under a transaction-scoped advisory
# lock, held until commit: positions are then handed out in commit order, which is what
# makes the sequence gap-safe. The lock sits in a MATERIALIZED CTE joined to the rows, so
# it is taken before the join emits a row and hence before any nextval() in the projection
# (checked with EXPLAIN VERBOSE); one statement keeps it one round trip like the store's.
LOCKED_APPEND = f"""
WITH serialized AS MATERIALIZED (SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})),
appended AS (
    INSERT INTO bench_lock_events (position, {_EVENT_COLUMNS})
    SELECT nextval('bench_lock_position'), {_EVENT_VALUES}
    {_EVENT_ROWS}, serialized
    WHERE CAST(:expected_version AS integer) = 0
       OR EXISTS (SELECT 1 FROM bench_lock_events
                  WHERE stream_id = CAST(:stream_id AS text)
                    AND version = CAST(:expected_version AS integer))
    RETURNING position, version
)
INSERT INTO bench_lock_commands ({_COMMAND_COLUMNS})
SELECT {_COMMAND_VALUES}
FROM appended HAVING count(*) > 0
ON CONFLICT (command_id) DO NOTHING
RETURNING version, position
"""

# Plain copies of the store's tables (LIKE ... INCLUDING ALL keeps the primary key and the
# unique constraints), with sequence positions instead of transaction-id positions.
BENCH_TABLES = """
CREATE TABLE bench_plain_events (LIKE events INCLUDING ALL);
CREATE SEQUENCE bench_plain_position OWNED BY bench_plain_events.position;
ALTER TABLE bench_plain_events ALTER position SET DEFAULT nextval('bench_plain_position');
CREATE TABLE bench_plain_commands (LIKE handled_commands INCLUDING ALL);
CREATE TABLE bench_lock_events (LIKE events INCLUDING ALL);
CREATE SEQUENCE bench_lock_position OWNED BY bench_lock_events.position;
CREATE TABLE bench_lock_commands (LIKE handled_commands INCLUDING ALL);
"""

ALL_TABLES = (
    "events, handled_commands, bench_plain_events, bench_plain_commands, "
    "bench_lock_events, bench_lock_commands"
)

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True, slots=True)
class RawStatement:
    """A statement with :name parameters rewritten into asyncpg's $n placeholders."""

    sql: str
    names: tuple[str, ...]
    returns_row: bool

    @classmethod
    def from_named(cls, named_sql: str, returns_row: bool = True) -> RawStatement:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        return cls(_NAMED_PARAMETER.sub(number, named_sql), tuple(names), returns_row)

    def arguments(self, parameters: dict[str, Any]) -> list[Any]:
        return [parameters[name] for name in self.names]


# --- the workload ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    stream_id: str
    expected_version: int
    events: list[NewEvent]
    command_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Shape:
    events: int
    writers: int

    def __str__(self) -> str:
        return f"{self.events} ev/cmd x {self.writers:>2} writers"


Append = Callable[[Command], Awaitable[None]]
# A writer's session: what it holds for a whole window (a connection, or nothing) and the
# append it runs through it.
Session = Callable[[], contextlib.AbstractAsyncContextManager[Append]]


def new_stream_id() -> str:
    return f"{STREAM_TYPE}-{uuid.uuid4()}"


def new_command(stream_id: str, expected_version: int, count: int) -> Command:
    """A command of `count` events shaped like the order handlers' (data and metadata)."""
    command_id = uuid.uuid4()
    now = datetime.now(UTC).isoformat()
    metadata = {
        "command_id": str(command_id),
        "command_type": "AddOrderItem",
        "correlation_id": str(command_id),
        "causation_id": str(command_id),
        "timestamp": now,
    }
    events = [
        NewEvent(
            event_type="OrderItemAdded",
            schema_version=1,
            data={
                "order_id": stream_id.removeprefix(f"{STREAM_TYPE}-"),
                "product_id": f"SKU-{index:05d}",
                "quantity": 2,
                "unit_price": "12.50",
                "occurred_at": now,
            },
            metadata=metadata,
        )
        for index in range(count)
    ]
    return Command(stream_id, expected_version, events, command_id)


def statement_parameters(command: Command) -> dict[str, Any]:
    """The parameters eventstore.postgres.append_arguments builds, built the same way, so the
    raw mechanisms pay the same JSON encoding as the store."""
    return {
        "stream_id": command.stream_id,
        "stream_type": STREAM_TYPE,
        "expected_version": command.expected_version,
        "event_ids": [e.event_id for e in command.events],
        "event_types": [e.event_type for e in command.events],
        "schema_versions": [e.schema_version for e in command.events],
        "datas": [json.dumps(e.data) for e in command.events],
        "metadatas": [json.dumps(e.metadata) for e in command.events],
        "command_id": command.command_id,
        "fingerprint": FINGERPRINT,
        "recorded_at": datetime.now(UTC),
    }


def store_session(store: EventStore) -> Session:
    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Append]:
        async def append(command: Command) -> None:
            await store.append(
                command.stream_id,
                STREAM_TYPE,
                command.events,
                command.expected_version,
                command.command_id,
                FINGERPRINT,
            )

        yield append

    return session


def raw_session(pool: Any, statement: RawStatement) -> Session:
    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Append]:
        # The writer keeps one connection for its whole window, as a bare driver would:
        # asyncpg's pool sends a reset query on every release, a second round trip.
        async with pool.acquire() as connection:

            async def append(command: Command) -> None:
                arguments = statement.arguments(statement_parameters(command))
                if not statement.returns_row:
                    await connection.execute(statement.sql, *arguments)
                elif await connection.fetchrow(statement.sql, *arguments) is None:
                    raise RuntimeError(f"{command.stream_id} not at {command.expected_version}")

            yield append

    return session


@dataclass(frozen=True, slots=True)
class Mechanism:
    key: str
    session: Session
    is_baseline: bool = False


async def writer(session: Session, shape: Shape, deadline: float, new_streams: bool) -> int:
    """Append commands until the deadline; return how many were appended."""
    done = 0
    stream_id, version = new_stream_id(), 0
    async with session() as append:
        while time.perf_counter() < deadline:
            if new_streams:
                stream_id, version = new_stream_id(), 0
            await append(new_command(stream_id, version, shape.events))
            version += shape.events
            done += 1
    return done


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    commands_per_s: float
    events_per_s: float
    client_cpu: float  # CPU seconds of this process per wall second (1.0 = one core busy)
    machine_busy: float  # share of all cores busy, every process included (noise shows here)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def measure(mechanism: Mechanism, shape: Shape, seconds: float, new_streams: bool) -> Sample:
    busy_before, total_before = cpu_ticks()
    cpu_before = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    counts = await asyncio.gather(
        *(writer(mechanism.session, shape, deadline, new_streams) for _ in range(shape.writers))
    )
    elapsed = time.perf_counter() - start  # includes the commands in flight at the deadline
    cpu = time.process_time() - cpu_before
    busy_after, total_after = cpu_ticks()
    commands = sum(counts)
    return Sample(
        commands_per_s=commands / elapsed,
        events_per_s=commands * shape.events / elapsed,
        client_cpu=cpu / elapsed,
        machine_busy=(busy_after - busy_before) / max(1, total_after - total_before),
    )


async def fresh_tables(connection: Any, checkpoint: bool) -> None:
    """Every cell starts from empty tables and a fresh checkpoint: the same index sizes and
    no checkpoint (or its full-page writes) landing in one cell rather than another."""
    await connection.execute(f"TRUNCATE {ALL_TABLES}")
    if checkpoint:
        await connection.execute("CHECKPOINT")


@dataclass
class Plan:
    mechanisms: list[Mechanism]
    shapes: list[Shape]
    seconds: float
    warmup: float
    repeats: int
    new_streams: bool
    checkpoint: bool


async def run_plan(plan: Plan, admin: Any) -> dict[tuple[str, Shape], list[Sample]]:
    samples: dict[tuple[str, Shape], list[Sample]] = {}
    cells = len(plan.mechanisms) * len(plan.shapes)
    for repeat in range(plan.repeats):
        # rotate the order per repetition so no mechanism always runs first after a shape change
        shift = repeat % len(plan.mechanisms)
        order = plan.mechanisms[shift:] + plan.mechanisms[:shift]
        done = 0
        for shape in plan.shapes:
            for mechanism in order:
                done += 1
                label = f"[{repeat + 1}/{plan.repeats}] ({done}/{cells}) {mechanism.key} {shape}"
                print(f"  append {label} ...", end="", file=sys.stderr, flush=True)
                await fresh_tables(admin, plan.checkpoint)
                # warm-up: pool connections, prepared statements, first pages of the tables
                await measure(mechanism, shape, plan.warmup, plan.new_streams)
                sample = await measure(mechanism, shape, plan.seconds, plan.new_streams)
                samples.setdefault((mechanism.key, shape), []).append(sample)
                print(
                    f" {sample.events_per_s:9.0f} ev/s {sample.commands_per_s:8.0f} cmd/s"
                    f"  client CPU {sample.client_cpu:4.0%}  machine {sample.machine_busy:4.0%}",
                    file=sys.stderr,
                    flush=True,
                )
    return samples


# --- the report ------------------------------------------------------------------------------


def table_row(cell: str, runs: list[Sample], baseline_runs: list[Sample]) -> str:
    events = [s.events_per_s for s in runs]
    median = statistics.median(events)
    baseline = statistics.median(s.events_per_s for s in baseline_runs)
    # The paired ratio compares each repetition with the baseline of the same repetition,
    # measured a minute apart at most: steadier than the ratio of medians when the
    # background load drifts between repetitions.
    paired = statistics.median(
        s.events_per_s / b.events_per_s for s, b in zip(runs, baseline_runs, strict=True)
    )
    cpu_per_command = statistics.median(s.client_cpu / s.commands_per_s * 1e6 for s in runs)
    return (
        f"| {cell} | {median:,.0f} | {statistics.median(s.commands_per_s for s in runs):,.0f} "
        f"| {baseline:,.0f} | {median / baseline:.2f} | {paired:.2f} "
        f"| {' / '.join(f'{e:,.0f}' for e in events)} "
        f"| {cpu_per_command:,.0f} | {statistics.median(s.client_cpu for s in runs):.0%} "
        f"| {statistics.median(s.machine_busy for s in runs):.0%} |"
    )


def table(plan: Plan, samples: dict[tuple[str, Shape], list[Sample]]) -> str:
    baseline = next(m for m in plan.mechanisms if m.is_baseline)
    lines = [
        "| cell | median events/s | median commands/s | baseline events/s | ratio "
        "| paired ratio | runs (events/s) | client µs/cmd | client CPU | machine busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape in plan.shapes:
        baseline_runs = samples[(baseline.key, shape)]
        for mechanism in plan.mechanisms:
            runs = samples[(mechanism.key, shape)]
            lines.append(table_row(f"{mechanism.key}, {shape}", runs, baseline_runs))
    return "\n".join(lines)


def git_output(*arguments: str) -> bytes | None:
    # read-only git commands only: they name the code that was measured
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(
            ["git", *arguments],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            check=True,
        ).stdout
    return None


def git_revision() -> str:
    """The short commit id of HEAD."""
    return (git_output("rev-parse", "--short", "HEAD") or b"unknown").decode().strip()


def measured_code() -> str:
    """The commit, and whether the PostgreSQL module measured is the committed one: others edit
    the tree while benchmarks run."""
    revision = git_revision()
    measured = Path(eventstore.postgres.__file__).read_bytes()
    committed = git_output("cat-file", "blob", "HEAD:eventstore/postgres.py")
    if committed == measured:
        return f"{revision}, eventstore/postgres.py as committed"
    digest = hashlib.sha256(measured).hexdigest()[:12]
    return f"{revision}, eventstore/postgres.py MODIFIED in the working tree (sha256 {digest}...)"


def report(plan: Plan, samples: dict[tuple[str, Shape], list[Sample]], context: list[str]) -> str:
    return "\n".join(
        [
            "# Appends per second on PostgreSQL (bench/append.py)",
            "",
            *(f"- {line}" for line in context),
            "",
            table(plan, samples),
            "",
            "ratio: median events/s of the cell / median events/s of raw-insert at the same "
            "shape, measured in the same run (commands/s give the same ratio). paired ratio: "
            "median over the repetitions of cell / raw-insert of the same repetition. runs: "
            "events/s of each repetition, in order. client µs/cmd: CPU time of the load "
            "generator per command, which noise from other processes hardly moves. client "
            "CPU: its CPU time per wall second (100% = it saturates its core). machine busy: "
            "share of all cores busy, any process (other users' load shows here).",
            "",
        ]
    )


# --- setup -----------------------------------------------------------------------------------


async def server_context(connection: Any) -> list[str]:
    version = str(await connection.fetchval("SHOW server_version"))
    settings = [
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
        "commit_delay",
        "shared_buffers",
        "max_wal_size",
    ]
    shown = [f"{name}={await connection.fetchval(f'SHOW {name}')}" for name in settings]
    return [f"PostgreSQL {version}: {', '.join(shown)}"]


async def can_checkpoint(connection: Any) -> bool:
    try:
        await connection.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


@contextlib.asynccontextmanager
async def admin_connection(url: str) -> AsyncIterator[Any]:
    """A connection of its own for TRUNCATE and CHECKPOINT, outside the writers' pool."""
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()


def mechanisms(store: EventStore, pool: Any) -> list[Mechanism]:
    return [
        Mechanism("raw-insert", raw_session(pool, RawStatement.from_named(PLAIN_INSERT)), True),
        Mechanism(
            "raw-insert-events",
            raw_session(pool, RawStatement.from_named(PLAIN_EVENTS_INSERT, returns_row=False)),
        ),
        Mechanism("store.append", store_session(store)),
        Mechanism("raw-xid", raw_session(pool, RawStatement.from_named(XID_APPEND))),
        Mechanism("advisory-lock", raw_session(pool, RawStatement.from_named(LOCKED_APPEND))),
    ]


@contextlib.asynccontextmanager
async def event_store(url: str) -> AsyncIterator[EventStore]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        await upgrade(engine)
        store = EventStore(engine)
        store.start()  # NOTIFY after appends is part of the real path
        try:
            yield store
        finally:
            await store.close()
    finally:
        await engine.dispose()


async def main_async(options: argparse.Namespace, pinning: str) -> str:
    shapes = [Shape(events, writers) for events in (1, 10) for writers in (1, 16)]
    writers = max(shape.writers for shape in shapes)
    async with (
        scratch_database(options.postgres_url) as url,
        event_store(url) as store,
        asyncpg.create_pool(url, min_size=writers, max_size=writers) as pool,
        admin_connection(url) as admin,
    ):
        await admin.execute(BENCH_TABLES)
        checkpoint = await can_checkpoint(admin)
        plan = Plan(
            mechanisms=mechanisms(store, pool),
            shapes=shapes,
            seconds=options.seconds,
            warmup=options.warmup,
            repeats=options.repeats,
            new_streams=options.streams == "new",
            checkpoint=checkpoint,
        )
        context = [
            f"command: `{shlex.join([sys.executable, '-m', 'bench.append', *sys.argv[1:]])}`",
            f"code: {measured_code()}, run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            *(await server_context(admin)),
            f"{options.seconds:g} s per cell after {options.warmup:g} s warm-up, "
            f"{options.repeats} repetitions, streams: {options.streams}, "
            f"{'CHECKPOINT' if checkpoint else 'no CHECKPOINT (not allowed)'} before each cell",
            pinning,
        ]
        print("\n".join(context), flush=True)
        samples = await run_plan(plan, admin)
        return report(plan, samples, context)


async def suite_figure(admin_url: str, seconds: float, warmup: float, repeats: int) -> Figure:
    """The suite's append figure: store.append next to raw-insert, 1-event commands, 16
    writers, in a scratch database of its own."""
    shape = Shape(events=1, writers=16)
    async with (
        scratch_database(admin_url) as url,
        event_store(url) as store,
        asyncpg.create_pool(url, min_size=shape.writers, max_size=shape.writers) as pool,
        admin_connection(url) as admin,
    ):
        await admin.execute(BENCH_TABLES)
        raw, real = (m for m in mechanisms(store, pool) if m.key in ("raw-insert", "store.append"))
        plan = Plan(
            mechanisms=[raw, real],
            shapes=[shape],
            seconds=seconds,
            warmup=warmup,
            repeats=repeats,
            new_streams=False,
            checkpoint=await can_checkpoint(admin),
        )
        samples = await run_plan(plan, admin)
    runs, baseline_runs = samples[(real.key, shape)], samples[(raw.key, shape)]
    figure = Figure(
        name="append, 1-event commands, 16 writers (gap-safe)",
        backend="postgres",
        unit="events/s",
        runs=[s.events_per_s for s in runs],
        baseline_runs=[s.events_per_s for s in baseline_runs],
        target="ratio >= 0.80",
        notes=[
            f"append: baseline raw asyncpg INSERT of the same rows; {seconds:g} s per run after "
            f"{warmup:g} s warm-up; load generator CPU "
            f"{statistics.median(s.client_cpu for s in runs):.0%} (store) / "
            f"{statistics.median(s.client_cpu for s in baseline_runs):.0%} (raw) of its core"
        ],
    )
    return dataclasses.replace(figure, met=(figure.ratio or 0.0) >= 0.80)


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.append", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--postgres-url",
        default=default_admin_url(),
        help="admin URL of the server; a scratch database is created there (default: "
        "$BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per cell")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per cell")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of every cell")
    parser.add_argument("--streams", choices=["advance", "new"], default="advance")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the load generator")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_arguments(argv)
    pinning = "load generator not pinned (--no-pin)" if options.no_pin else pin_load_generator()
    text = asyncio.run(main_async(options, pinning))
    print()
    print(text)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text)
    print(f"written to {options.output}")


if __name__ == "__main__":
    main()
