"""accounts.notify_feedback: a coach may turn off the DMs that carry an athlete's skip
reason or comment on their own activity (issue 13 item 5, SPEC §6).

Existing accounts get it on (a server default), as every other kind of message starts.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-11 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table(
        "accounts", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("notify_feedback", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "accounts", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("notify_feedback")
