"""Where a shadow build started, so that status can tell its rate and time to go.

A process that starts (or resumes) building a projection's version beside the live
tables records the time and position on the build's checkpoint row; with the row's
position and updated_at, that gives the build's events/s and ETA
(readmodels/status/statuses.py). Live rows leave both empty.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from eventstore.database import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projection_checkpoints", sa.Column("build_started_at", UtcDateTime))
    op.add_column("projection_checkpoints", sa.Column("build_started_position", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("projection_checkpoints") as batch:
        batch.drop_column("build_started_position")
        batch.drop_column("build_started_at")
