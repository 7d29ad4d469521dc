"""A rate limit shared by the processes of one bot (issue 14 item 6): `rate_budgets`.

One row per (platform, hash of the bot token, scope): the next free instant of the even
schedule the processes claim send slots of, and the end of the latest Retry-After. Used
on PostgreSQL only (SQLite runs one process, paced in memory); created on both so the
schemas stay one.

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-12 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_budgets",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("next_slot", UTCDateTime(), nullable=False),
        sa.Column("held_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "bot", "scope", name=op.f("pk_rate_budgets")),
    )


def downgrade() -> None:
    op.drop_table("rate_budgets")
