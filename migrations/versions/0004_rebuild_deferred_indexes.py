"""Secondary indexes of a read table set aside while its projection rebuilds (PostgreSQL).

A rebuild writes every row of its tables again, and keeping their secondary indexes up
to date row by row costs several times what building them once afterwards does
(docs/benchmarks.md). So a rebuild's reset drops them, recording each one's definition
as the catalog gives it (readmodels/running/deferred_indexes.py), and this trigger creates them
again in the very transaction that takes the checkpoint out of REBUILDING, whichever
change does it (the last batch, a settle, a failure): there is no committed state of a
projection that is no longer rebuilding without its indexes, and a crash mid-rebuild
leaves the checkpoint REBUILDING, which the restarted runner carries on to the end.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

POSTGRES = [
    """CREATE TABLE deferred_indexes (
        projection varchar(100) NOT NULL,
        index_name text NOT NULL,
        definition text NOT NULL,
        PRIMARY KEY (projection, index_name)
    )""",
    """CREATE FUNCTION restore_deferred_indexes() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        deferred record;
    BEGIN
        FOR deferred IN
            DELETE FROM deferred_indexes WHERE projection = NEW.name RETURNING definition
        LOOP
            EXECUTE deferred.definition;
        END LOOP;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER restore_deferred_indexes AFTER UPDATE ON projection_checkpoints
    FOR EACH ROW WHEN (OLD.state = 'REBUILDING' AND NEW.state <> 'REBUILDING')
    EXECUTE FUNCTION restore_deferred_indexes()""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER restore_deferred_indexes ON projection_checkpoints")
        op.execute("DROP FUNCTION restore_deferred_indexes()")
        op.execute("DROP TABLE deferred_indexes")
