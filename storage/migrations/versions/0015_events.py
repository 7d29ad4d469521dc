"""events and event_rsvps: club runs with RSVP (issue 15 item 3, SPEC §4 `/event`,
`/events`, `/rsvp`).

An event belongs to one group of one org (both cascade: a deleted group or club takes its
events along), starts at a UTC instant and may be cancelled (the row stays, marked). An
answer is one row per (event, account), changed in place.

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-18 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("public_id", sa.String(length=7), nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_events_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_events_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_events_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_public_id", ["public_id"], unique=True)
        batch_op.create_index("ix_events_org_starts", ["org_id", "starts_at"], unique=False)
        batch_op.create_index("ix_events_group_starts", ["group_id", "starts_at"], unique=False)
        batch_op.create_index("ix_events_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "event_rsvps",
        sa.Column("id", _ID, nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("answer", sa.String(length=5), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "answer IN ('going', 'maybe', 'no')", name=op.f("ck_event_rsvps_answer")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_event_rsvps_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_rsvps_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_rsvps")),
        sa.UniqueConstraint("event_id", "account_id", name=op.f("uq_event_rsvps_event_id_account_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("event_rsvps", schema=None) as batch_op:
        batch_op.create_index("ix_event_rsvps_account_id", ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_rsvps", schema=None) as batch_op:
        batch_op.drop_index("ix_event_rsvps_account_id")
    op.drop_table("event_rsvps")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_starts_at")
        batch_op.drop_index("ix_events_group_starts")
        batch_op.drop_index("ix_events_org_starts")
        batch_op.drop_index("ix_events_public_id")
    op.drop_table("events")
