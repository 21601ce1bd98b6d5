"""cases.hold_reason: dropped, nothing read it

It copied the customer's pause (who, until when) onto a held case when the failure was held and
went stale when the pause changed. What a held case shows now comes from the pause itself
(`/dunning status in_…`), and the audit log keeps `failure_held_paused`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "drop_case_hold_reason"
down_revision: str | None = "plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("hold_reason")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
