"""PostgreSQL: the events' payload and metadata as json (their text) instead of jsonb.

A rebuild reads the whole log, and every read handed the payload to the codec as text
(EventStore.read_log): with jsonb the server rebuilt that text from its binary form for
each row, and this was the limit of reading the log (about 200,000 events/s on two
cores, where the same rows with a json column read at 430,000-525,000/s; the numbers
are in docs/benchmarks.md). A json column keeps the text as appended, so reading it is
a copy. Nothing queries inside an event with jsonb's operators or indexes: the log is
read by position and stream only, and the codec checks every payload on the way in.

What it costs: ALTER COLUMN ... TYPE rewrites the whole events table (and its indexes)
under an ACCESS EXCLUSIVE lock, so appends and reads of the log wait until it is done,
about as long as copying the table; docs/operations.md's upgrade note says how to plan
it on a large log. SQLite stores JSON as text already: nothing to do there.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE events ALTER COLUMN data TYPE json USING data::json, "
            "ALTER COLUMN metadata TYPE json USING metadata::json"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE events ALTER COLUMN data TYPE jsonb USING data::jsonb, "
            "ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb"
        )
