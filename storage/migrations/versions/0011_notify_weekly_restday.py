"""Two more kinds of message a person can turn off (issue 13 item 6, SPEC §6).

- `accounts.notify_weekly`: the recap DM on Sunday at 18:00 in the athlete's zone.
- `accounts.notify_restday`: the daily DM on a day with no session (off: none is planned).

Both are on for every existing account (server default true), as every kind starts on.

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-10 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN on both stores (SQLite accepts NOT NULL with a default)
    op.add_column(
        "accounts",
        sa.Column("notify_weekly", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "accounts",
        sa.Column("notify_restday", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not batch mode: batch mode
    # would copy `accounts` and drop the old table, and with foreign keys enforced that
    # DROP cascades into every table referring to accounts (memberships, sessions, ...)
    op.drop_column("accounts", "notify_restday")
    op.drop_column("accounts", "notify_weekly")
