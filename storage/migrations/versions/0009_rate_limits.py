"""rate_limits: call rates shared by every process (the LLM per-minute budget)

Revision ID: rate_limits
Revises: customers
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "rate_limits"
down_revision: str | None = "customers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("not_before", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_limits")),
    )
    op.create_table(
        "rate_limit_calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_calls")),
    )
    with op.batch_alter_table("rate_limit_calls", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_calls_name_at", ["name", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_limit_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limit_calls_name_at")
    op.drop_table("rate_limit_calls")
    op.drop_table("rate_limits")
