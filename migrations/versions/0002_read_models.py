"""Read tables of the projections, their search indexes, and the projection checkpoints.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from eventstore.database import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite: an FTS5 index over order_views.search_text, kept in step by triggers. The
# trigram tokenizer matches any substring of three characters or more. It points at
# order_views by row_id, an INTEGER PRIMARY KEY, because VACUUM may renumber an implicit
# rowid and would leave the index pointing at the wrong orders.
SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE order_search USING fts5(
        search_text, content='order_views', content_rowid='row_id', tokenize='trigram')""",
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
]

# PostgreSQL: a trigram GIN index serves `search_text LIKE '%...%'` for three characters
# or more.
POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_order_views_search ON order_views USING gin (search_text gin_trgm_ops)",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    key = (
        [
            sa.Column("row_id", sa.Integer, primary_key=True),
            sa.Column("order_id", sa.Uuid, nullable=False, unique=True),
        ]
        if sqlite
        else [sa.Column("order_id", sa.Uuid, primary_key=True)]
    )
    op.create_table(
        "order_views",
        *key,
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        # integer cents: exact, sortable and indexable on both databases
        sa.Column("total_cents", sa.BigInteger, nullable=False),
        sa.Column("ship_name", sa.Text, nullable=False),
        sa.Column("ship_line1", sa.Text, nullable=False),
        sa.Column("ship_line2", sa.Text),
        sa.Column("ship_city", sa.Text, nullable=False),
        sa.Column("ship_postal_code", sa.Text, nullable=False),
        sa.Column("ship_country", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("shipped_at", UtcDateTime),
        sa.Column("carrier", sa.Text),
        sa.Column("tracking_number", sa.Text),
        sa.Column("cancelled_at", UtcDateTime),
        sa.Column("cancellation_reason", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_position", sa.BigInteger, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
    )
    # every listing pages through one of these, newest first, order_id breaking ties
    op.create_index(
        "ix_order_views_customer", "order_views", ["customer_id", "created_at", "order_id"]
    )
    op.create_index("ix_order_views_status", "order_views", ["status", "created_at", "order_id"])
    op.create_index("ix_order_views_created", "order_views", ["created_at", "order_id"])
    op.create_index("ix_order_views_updated", "order_views", ["updated_at", "order_id"])
    op.create_index("ix_order_views_total", "order_views", ["total_cents", "order_id"])
    for statement in SQLITE_SEARCH if sqlite else POSTGRES_SEARCH:
        op.execute(statement)

    op.create_table(
        "customer_summaries",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("order_count", sa.Integer, nullable=False),
        sa.Column("pending_count", sa.Integer, nullable=False),
        sa.Column("shipped_count", sa.Integer, nullable=False),
        sa.Column("cancelled_count", sa.Integer, nullable=False),
        sa.Column("total_spent_cents", sa.BigInteger, nullable=False),
        sa.Column("last_order_at", UtcDateTime),
    )
    # what the customer_summaries projection remembers of each order: the events after
    # OrderCreated carry neither the customer nor the total
    op.create_table(
        "customer_orders",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_cents", sa.BigInteger, nullable=False),
    )

    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_checkpoints")
    op.drop_table("customer_orders")
    op.drop_table("customer_summaries")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE order_search")
    op.drop_table("order_views")
