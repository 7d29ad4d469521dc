"""calendar_feeds: private ICS feed URLs (issue 15 `/calendar`).

One row per URL handed out. Only the SHA-256 of the URL's random token is kept (the
database never holds the token); `kind` is `athlete` (one's own schedule) or `group` (a
coach's feed of a group's events). A row goes with its account, membership, org or group
by cascade, and `/calendar reset` marks the live ones `revoked_at`.

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-18 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("membership_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('athlete', 'group')", name=op.f("ck_calendar_feeds_kind")),
        sa.CheckConstraint(
            "(kind = 'group') = (group_id IS NOT NULL)", name=op.f("ck_calendar_feeds_group_kind")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_calendar_feeds_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_calendar_feeds_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_calendar_feeds_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_calendar_feeds_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index("ix_calendar_feeds_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_calendar_feeds_membership_id", ["membership_id"], unique=False)
        batch_op.create_index("ix_calendar_feeds_group_id", ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_feeds_group_id")
        batch_op.drop_index("ix_calendar_feeds_membership_id")
        batch_op.drop_index("ix_calendar_feeds_account_id")
    op.drop_table("calendar_feeds")
