"""outbox_emails.marked_sent_by: who confirmed an email of unknown outcome left ("Mark as sent")

It used to be stored in last_error as "marked sent by <user>" and parsed back; existing rows
move to the new column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outbox_marked_sent"
down_revision: str | None = "instance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREFIX = "marked sent by "


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(sa.Column("marked_sent_by", sa.String(length=100), nullable=True))
    outbox = sa.table(
        "outbox_emails",
        sa.column("status", sa.String),
        sa.column("last_error", sa.Text),
        sa.column("marked_sent_by", sa.String),
    )
    op.execute(
        outbox.update()
        .where(outbox.c.status == "sent", outbox.c.last_error.startswith(_PREFIX))
        .values(
            marked_sent_by=sa.func.substr(outbox.c.last_error, len(_PREFIX) + 1),
            last_error=None,
        )
    )


def downgrade() -> None:
    outbox = sa.table(
        "outbox_emails",
        sa.column("last_error", sa.Text),
        sa.column("marked_sent_by", sa.String),
    )
    op.execute(
        outbox.update()
        .where(outbox.c.marked_sent_by.is_not(None))
        .values(last_error=_PREFIX + outbox.c.marked_sent_by)
    )
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_column("marked_sent_by")
