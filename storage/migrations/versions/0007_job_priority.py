"""jobs.priority, and a claim index that matches the claim's order

Revision ID: job_priority
Revises: outbox_drop_lease
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "job_priority"
down_revision: str | None = "outbox_drop_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.drop_index("ix_jobs_claim")
        batch_op.create_index("ix_jobs_claim", ["status", "priority", "run_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_claim")
        batch_op.create_index("ix_jobs_claim", ["status", "run_at"], unique=False)
        batch_op.drop_column("priority")
