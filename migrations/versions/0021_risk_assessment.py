"""the provider's Prevent risk assessment: risks by area (risk), the action plan (risk_action) and the Prevent
Lead's signed-off versions (risk_review, each with the risks and actions as they stood)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 22:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('risk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area', sa.Enum('leadership_partnership', 'staff_training', 'it_online_safety', 'speakers_events',
                              'site_welfare', 'subcontracted_provision', 'employers', 'regional_context',
                              name='ck_riskarea', native_enum=False, length=32, create_constraint=True),
              nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('controls', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('likelihood BETWEEN 1 AND 5', name='ck_risk_likelihood'),
    sa.CheckConstraint('impact BETWEEN 1 AND 5', name='ck_risk_impact'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_area'), ['area'], unique=False)
    op.create_table('risk_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'cancelled', name='ck_actionstatus', native_enum=False, length=32,
                                create_constraint=True), nullable=False),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['risk_id'], ['risk.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_action_risk_id'), ['risk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_action_status'), ['status'], unique=False)
    op.create_table('risk_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signed_off_at', sa.DateTime(), nullable=False),
    sa.Column('signed_off_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['signed_off_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_review_signed_off_at'), ['signed_off_at'], unique=False)


def downgrade():
    with op.batch_alter_table('risk_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_review_signed_off_at'))
    op.drop_table('risk_review')
    with op.batch_alter_table('risk_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_action_status'))
        batch_op.drop_index(batch_op.f('ix_risk_action_risk_id'))
    op.drop_table('risk_action')
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_area'))
    op.drop_table('risk')
