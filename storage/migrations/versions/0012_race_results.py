"""Race results (issue 13 item 7): `activities.race_name`.

`/log ... race:"NAME"` marks an activity as a race result and keeps the race's name
(at most 100 characters, like other names). NULL for every activity that is not a race;
existing rows are left as they were.

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-11 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite may copy the table: keep its AUTOINCREMENT (see storage/models.py)
    with op.batch_alter_table(
        "activities", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("race_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "activities", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("race_name")
