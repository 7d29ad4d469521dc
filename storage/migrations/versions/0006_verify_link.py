"""verify_codes and link_codes: proving an e-mail by an e-mailed code, and joining one's
own chat identities by a one-time code (SPEC §5a `/verify`, `/link`).

Both keep codes hashed. `verify_codes` keeps each request a day or two so the daily limits
(3 codes per e-mail, 10 per chat identity) are counted in the database, across restarts
and processes; `link_codes` holds at most one live code per account.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "verify_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("identity_key", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=100), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'used', 'replaced', 'failed')",
            name=op.f("ck_verify_codes_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_codes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("verify_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verify_codes_identity_at", ["identity_key", "created_at"], unique=False
        )
        batch_op.create_index("ix_verify_codes_email_at", ["email", "created_at"], unique=False)

    op.create_table(
        "link_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_link_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("account_id", name=op.f("uq_link_codes_account_id")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("link_codes")
    with op.batch_alter_table("verify_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_verify_codes_email_at")
        batch_op.drop_index("ix_verify_codes_identity_at")
    op.drop_table("verify_codes")
