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
    with op.batch_alter_table(
        "accounts", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("notify_weekly", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("notify_restday", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "accounts", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("notify_restday")
        batch_op.drop_column("notify_weekly")
