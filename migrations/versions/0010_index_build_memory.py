"""PostgreSQL: the indexes a rebuild set aside are built with at least 256 MB of memory.

A rebuild builds order_views' trigram index once at its end (migration 0004), and with
the server's default maintenance_work_mem (64 MB) that one index took 2.0 s of a
100,000-event rebuild's 6 s; with 256 MB it takes 1.4 s (docs/benchmarks.md). So the
trigger that builds the set-aside indexes raises maintenance_work_mem for its own
transaction, never lowering what an operator configured; a shadow build's index step
does the same (readmodels/running/shadow_tables.py).

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


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_restore_deferred_indexes(""))
