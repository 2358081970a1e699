"""role grant requests: the Prevent Lead and Safeguarding Officer roles are given only with a second person's approval

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('role_grant_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'declined', name='ck_rolegrantstatus', native_enum=False,
                                length=32, create_constraint=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('role_grant_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grant_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_grant_request_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('role_grant_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grant_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_role_grant_request_status'))

    op.drop_table('role_grant_request')
