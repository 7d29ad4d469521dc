"""comments.org_id: a comment belongs to the organization it was written in (SPEC §2)

Nothing recorded where old comments were written, so they are backfilled from their
author's current membership, else from the athlete's whose activity they are on; a
comment neither leads to stays NULL (seen by the activity's athlete alone).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 14:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comments_org_id_orgs'), 'orgs', ['org_id'], ['id'], ondelete='CASCADE')
    op.execute(
        "UPDATE comments SET org_id = (SELECT m.org_id FROM memberships m "
        "WHERE m.account_id = comments.author_account_id) WHERE org_id IS NULL"
    )
    op.execute(
        "UPDATE comments SET org_id = (SELECT m.org_id FROM memberships m "
        "JOIN activities a ON a.account_id = m.account_id "
        "WHERE a.id = comments.activity_id) WHERE org_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comments_org_id_orgs'), type_='foreignkey')
        batch_op.drop_column('org_id')
