"""types of concern by the Home Office's schemes: the categories of each scheme (statistics_category: "pre-2025" and
"PCMT 2025", the Prevent Case Management Tracker's categories used from the statistics release of 6 November 2025,
year April 2024 to March 2025) and each type's category in each (concern_type.pre_2025_category_id,
concern_type.pcmt_2025_category_id). The categories and mappings are reference data, seeded by `flask prevent
seed-reference` from app/cases/statistics_schemes.py, which cites its sources.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-10 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statistics_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scheme', 'label')
    )
    with op.batch_alter_table('concern_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pre_2025_category_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pcmt_2025_category_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_concern_type_pre_2025_category', 'statistics_category',
                                    ['pre_2025_category_id'], ['id'])
        batch_op.create_foreign_key('fk_concern_type_pcmt_2025_category', 'statistics_category',
                                    ['pcmt_2025_category_id'], ['id'])


def downgrade():
    with op.batch_alter_table('concern_type', schema=None) as batch_op:
        batch_op.drop_constraint('fk_concern_type_pcmt_2025_category', type_='foreignkey')
        batch_op.drop_constraint('fk_concern_type_pre_2025_category', type_='foreignkey')
        batch_op.drop_column('pcmt_2025_category_id')
        batch_op.drop_column('pre_2025_category_id')
    op.drop_table('statistics_category')
