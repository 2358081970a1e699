"""sign-in hardening: API refresh tokens kept by id, so that an idle one is refused; one count of failed sign-ins
(wrong codes count in ab_user.fail_login_count with wrong passwords), so the second factor's own count goes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_refresh_token',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('api_refresh_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_refresh_token_last_used_at'), ['last_used_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_refresh_token_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('mfa_totp', schema=None) as batch_op:
        batch_op.drop_column('failed_attempts')


def downgrade():
    with op.batch_alter_table('mfa_totp', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_attempts', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('api_refresh_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_refresh_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_refresh_token_last_used_at'))
    op.drop_table('api_refresh_token')
