"""activities.public_id and invitations.public_id: short random ids people see and type

Activity and invitation numbers were global sequences, so `#N` told anyone how many
activities or invitations every club together had made. Each row gets a random id from
an alphabet without look-alikes; today's numbers stop working.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 13:30:00.000000
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# a copy, not an import: a migration must keep doing what it did when it was written
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 7
TABLES = ("activities", "invitations")


def _backfill(table: str) -> None:
    bind = op.get_bind()
    ids = bind.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
    used: set[str] = set()
    values = []
    for row_id in ids:
        public = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        while public in used:
            public = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        used.add(public)
        values.append({"public_id": public, "id": row_id})
    if values:
        bind.execute(
            sa.text(f"UPDATE {table} SET public_id = :public_id WHERE id = :id"), values
        )


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('public_id', sa.String(length=LENGTH), nullable=True))
        _backfill(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                'public_id', existing_type=sa.String(length=LENGTH), nullable=False
            )
            batch_op.create_index(f'ix_{table}_public_id', ['public_id'], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_public_id')
            batch_op.drop_column('public_id')
