"""beside the pathway: parallel safeguarding referrals (case_parallel_referral) and the referrer's safety
(case_referrer_safety, one per case)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_parallel_referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('mash', 'childrens_social_care', 'adult_social_care', 'lado', 'hr', 'other',
        name='ck_parallelreferralkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['prevent_case.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_parallel_referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parallel_referral_case_id'), ['case_id'], unique=False)
    op.create_table('case_referrer_safety',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('risk', sa.Enum('none', 'concern', 'threat_received', name='ck_referrerrisk', native_enum=False,
        create_constraint=True, length=32), nullable=False),
    sa.Column('police_informed', sa.Boolean(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['prevent_case.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('case_referrer_safety', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_referrer_safety_risk'), ['risk'], unique=False)


def downgrade():
    with op.batch_alter_table('case_referrer_safety', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_referrer_safety_risk'))
    op.drop_table('case_referrer_safety')
    with op.batch_alter_table('case_parallel_referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_parallel_referral_case_id'))
    op.drop_table('case_parallel_referral')
