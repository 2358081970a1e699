"""monitoring alerts in: the sources allowed to send them, each with a hashed key (monitoring_source), and the
alerts, one per source's own id, with their triage (monitoring_alert)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 22:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monitoring_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_hint', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    sa.UniqueConstraint('name')
    )
    op.create_table('monitoring_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('source_alert_id', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', name='ck_alertseverity', native_enum=False,
        create_constraint=True, length=32), nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('awaiting_triage', 'concern_raised', 'dismissed', name='ck_alertstate',
        native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('triaged_by_id', sa.Integer(), nullable=True),
    sa.Column('triaged_at', sa.DateTime(), nullable=True),
    sa.Column('dismiss_reason', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['prevent_case.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['monitoring_source.id'], ),
    sa.ForeignKeyConstraint(['triaged_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'source_alert_id', name='uq_monitoring_alert_source_alert')
    )
    with op.batch_alter_table('monitoring_alert', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_alert_state_received', ['state', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_alert_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('monitoring_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_alert_case_id'))
        batch_op.drop_index('ix_monitoring_alert_state_received')
    op.drop_table('monitoring_alert')
    op.drop_table('monitoring_source')
