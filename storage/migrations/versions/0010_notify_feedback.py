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
    # SQLite adds a column in place (a batch would copy `accounts` only if it had to)
    op.add_column(
        "accounts",
        sa.Column("notify_feedback", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    # in place, not as a batch: a batch copies `accounts` on SQLite, and dropping the old
    # table cascades to every row that refers to an account (SQLite drops a column in
    # place since 3.35)
    op.drop_column("accounts", "notify_feedback")
