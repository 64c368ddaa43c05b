"""A revision counter on each projection checkpoint.

Statuses of one projection reach an API process by two roads (its own runner, and
NOTIFY from other processes) and can arrive out of order; the revision, bumped by every
change of the row, tells which is newer. Positions cannot: a rebuild moves back to 0.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "projection_checkpoints",
        sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("projection_checkpoints") as batch:
        batch.drop_column("revision")
