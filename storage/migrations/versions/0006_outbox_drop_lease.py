"""outbox_emails.lease_expires_at: dropped, nothing ever wrote or read it

The email outbox is leased through its send_email job (jobs.lease_expires_at), not this column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "outbox_drop_lease"
down_revision: str | None = "channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("lease_expires_at")


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(
            sa.Column("lease_expires_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
