"""PostgreSQL: what the read tables' indexes cost, at a rebuild's end and on each batch.

The indexes a rebuild set aside are built with at least 256 MB of memory. A rebuild
builds order_views' trigram index once at its end (migration 0004): for 40,000 orders
(100,000 events) it took 1.8 s with the server's default maintenance_work_mem (64 MB)
and 1.5 s with 256 MB, medians of 3 (docs/benchmarks.md). So the
trigger that builds the set-aside indexes raises maintenance_work_mem for its own
transaction, never lowering what an operator configured; a shadow build's index step
does the same (readmodels/running/shadow_tables.py).

The trigram index takes each batch's entries at once (fastupdate off). With GIN's
default list of pending entries, the batch that filled it (every 3,000 or so order
updates) merged it into the index, a stall of 90 to 125 ms measured on 40,000 orders,
and the twenty commands behind it made the lag's p99; taken at once, each update costs
about 0.8 ms more and none stalls (docs/benchmarks.md). The list left from before is
merged here. A rebuild's copy of the index keeps the setting, its definition being read
from the catalog.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _restore_deferred_indexes(memory: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION restore_deferred_indexes() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        deferred record;
    BEGIN
        {memory}
        FOR deferred IN
            DELETE FROM deferred_indexes WHERE projection = NEW.name RETURNING definition
        LOOP
            EXECUTE deferred.definition;
        END LOOP;
        RETURN NULL;
    END $$"""


# for this transaction only, and only upwards
RAISE_MEMORY = """PERFORM set_config('maintenance_work_mem', '256MB', true)
        WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB');"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_restore_deferred_indexes(RAISE_MEMORY))
        # a rebuild under way has set it aside: it comes back with its old definition
        op.execute(
            "UPDATE deferred_indexes SET definition = definition || ' WITH (fastupdate=off)'"
            " WHERE index_name = 'ix_order_views_search'"
        )
        op.execute("ALTER INDEX IF EXISTS ix_order_views_search SET (fastupdate = off)")
        op.execute(
            "SELECT gin_clean_pending_list(to_regclass('ix_order_views_search'))"
            " WHERE to_regclass('ix_order_views_search') IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX IF EXISTS ix_order_views_search RESET (fastupdate)")
        op.execute(_restore_deferred_indexes(""))
