"""the national referral form's details of a case (referral_details, one row per case)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referral_details',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('local_authority', sa.String(length=200), nullable=True),
    sa.Column('gender', sa.String(length=60), nullable=True),
    sa.Column('nationality', sa.String(length=100), nullable=True),
    sa.Column('education_employment', sa.Text(), nullable=True),
    sa.Column('special_needs', sa.String(length=16), nullable=True),
    sa.Column('needs_vulnerabilities', sa.Text(), nullable=True),
    sa.Column('online_activity', sa.Text(), nullable=True),
    sa.Column('group_contacts', sa.Text(), nullable=True),
    sa.Column('threats_intentions', sa.Text(), nullable=True),
    sa.Column('family_context', sa.Text(), nullable=True),
    sa.Column('parents_carers_told', sa.String(length=16), nullable=True),
    sa.Column('other_agencies', sa.Text(), nullable=True),
    sa.Column('referrer_actions', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['prevent_case.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade():
    op.drop_table('referral_details')
