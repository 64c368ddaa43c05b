"""Persisted operations: documents by their SHA-256, shared by every API process.

Clients register documents by Apollo's automatic persisted queries (trusted false), and
`cqrs-orders operations add` registers the documents an app ships (trusted true), which
are the only ones served with PERSISTED_OPERATIONS=only.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from eventstore.database import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persisted_operations",
        # lower-case hex, as clients send it in extensions.persistedQuery.sha256Hash
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("trusted", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("persisted_operations")
