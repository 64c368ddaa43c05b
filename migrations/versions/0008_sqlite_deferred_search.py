"""SQLite: order_views' full-text index set aside while order_views rebuilds.

Kept in step row by row, the FTS5 index (migration 0002) made a rebuild's inserts ten
times slower than building it once from the finished table (docs/benchmarks.md). So a
rebuild's reset records the index in deferred_indexes (as PostgreSQL's rebuilds record
their secondary indexes, migration 0004) and empties it
(readmodels/running/deferred_indexes.py); while that row is there the triggers of 0002
leave the index alone. SQLite's triggers cannot run DDL, but an FTS5 rebuild is an
INSERT: the trigger below rebuilds the index from order_views in the very transaction
that takes the checkpoint out of REBUILDING, whichever change does it, so there is no
committed state of a projection that is no longer rebuilding without its search, and a
crash mid-rebuild leaves the checkpoint REBUILDING, which the restarted runner carries on
to the end.

The delete trigger goes: rows of order_views are deleted only by a rebuild's reset, which
sets the index aside (and empties it) first, and a table with a delete trigger loses
SQLite's whole-table delete, which drops its pages at once instead of deleting each row
from each of its seven indexes (2 s instead of 0.15 s for 40,000 orders).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SEARCH_LIVE = (
    "NOT EXISTS (SELECT 1 FROM deferred_indexes "
    "WHERE projection = 'order_views' AND index_name = 'order_search')"
)

SQLITE = [
    """CREATE TABLE deferred_indexes (
        projection varchar(100) NOT NULL,
        index_name text NOT NULL,
        definition text NOT NULL,
        PRIMARY KEY (projection, index_name)
    )""",
    "DROP TRIGGER order_views_search_insert",
    "DROP TRIGGER order_views_search_update",
    "DROP TRIGGER order_views_search_delete",
    f"""CREATE TRIGGER order_views_search_insert AFTER INSERT ON order_views
    WHEN {_SEARCH_LIVE} BEGIN
        INSERT INTO order_search(rowid, search_text) VALUES (new.row_id, new.search_text);
    END""",
    f"""CREATE TRIGGER order_views_search_update AFTER UPDATE OF search_text ON order_views
    WHEN old.search_text IS NOT new.search_text AND {_SEARCH_LIVE} BEGIN
        INSERT INTO order_search(order_search, rowid, search_text)
        VALUES ('delete', old.row_id, old.search_text);
        INSERT INTO order_search(rowid, search_text) VALUES (new.row_id, new.search_text);
    END""",
    """CREATE TRIGGER restore_deferred_search AFTER UPDATE ON projection_checkpoints
    WHEN OLD.state = 'REBUILDING' AND NEW.state <> 'REBUILDING' AND EXISTS (
        SELECT 1 FROM deferred_indexes
        WHERE projection = NEW.name AND index_name = 'order_search'
    ) BEGIN
        DELETE FROM deferred_indexes WHERE projection = NEW.name AND index_name = 'order_search';
        INSERT INTO order_search(order_search) VALUES ('rebuild');
    END""",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER restore_deferred_search",
    "DROP TRIGGER order_views_search_insert",
    "DROP TRIGGER order_views_search_update",
    """CREATE TRIGGER order_views_search_insert AFTER INSERT ON order_views BEGIN
        INSERT INTO order_search(rowid, search_text) VALUES (new.row_id, new.search_text);
    END""",
    """CREATE TRIGGER order_views_search_update AFTER UPDATE OF search_text ON order_views
    WHEN old.search_text IS NOT new.search_text BEGIN
        INSERT INTO order_search(order_search, rowid, search_text)
        VALUES ('delete', old.row_id, old.search_text);
        INSERT INTO order_search(rowid, search_text) VALUES (new.row_id, new.search_text);
    END""",
    """CREATE TRIGGER order_views_search_delete AFTER DELETE ON order_views BEGIN
        INSERT INTO order_search(order_search, rowid, search_text)
        VALUES ('delete', old.row_id, old.search_text);
    END""",
    # a rebuild cut short left the index empty: fill it from the table
    "INSERT INTO order_search(order_search) VALUES ('rebuild')",
    "DROP TABLE deferred_indexes",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
