"""instance: which mode uses the database (serve or demo) and the health heartbeat

Revision ID: instance
Revises: playbooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "instance"
down_revision: str | None = "playbooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=True),
        sa.Column("marked_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance")),
    )


def downgrade() -> None:
    op.drop_table("instance")
