"""Sessions a coach changes one by one (issue 13 item 2).

- `sessions.edited` ('set', 'moved', 'cleared' or NULL): the day was changed by
  `/session set|move|clear`, so later template edits leave it alone. A cleared session
  stays a row (no workout, marked `cleared`) instead of being deleted, so re-applying a
  template cannot bring it back.
- `sessions.plan_assignment_id` may be NULL: `/session set` on a day outside any plan
  makes a one-off session that belongs to no plan.

Existing rows keep everything they had (`edited` is NULL: they came from a template).

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-04 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # SQLite copies the table: keep its AUTOINCREMENT (ids appear in nothing users see,
    # but every table of the schema has it; see storage/models.py)
    with op.batch_alter_table(
        "sessions", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("edited", sa.String(length=8), nullable=True))
        batch_op.alter_column("plan_assignment_id", existing_type=_ID, nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_sessions_edited"), "edited IN ('set', 'moved', 'cleared')"
        )


def downgrade() -> None:
    # one-off sessions belong to no plan: they cannot be kept under the old NOT NULL
    op.execute("DELETE FROM sessions WHERE plan_assignment_id IS NULL")
    with op.batch_alter_table(
        "sessions", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_sessions_edited"), type_="check")
        batch_op.alter_column("plan_assignment_id", existing_type=_ID, nullable=False)
        batch_op.drop_column("edited")
