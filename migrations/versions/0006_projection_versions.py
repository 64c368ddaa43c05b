"""A version on each projection checkpoint: which code's tables are live.

A process whose projection code declares a newer version builds it beside the live
tables and switches it in (readmodels/running/shadow_build.py), which sets the version;
one with older code stands by rather than write tables it does not know. The tables the
migrations create are version 1.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "projection_checkpoints",
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )


def downgrade() -> None:
    with op.batch_alter_table("projection_checkpoints") as batch:
        batch.drop_column("version")
