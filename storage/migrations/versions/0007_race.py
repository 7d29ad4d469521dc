"""outbox.lease_owner: which process holds a row's lease, so a restarted process on the
same host takes back at once the rows of one that died (`kill -9`) instead of waiting
for their lease to run out (issue 11, item 2).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_owner")
