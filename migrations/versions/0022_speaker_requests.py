"""external speakers and events (speaker_request): a request for approval, its check and its decision

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 22:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('speaker_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=200), nullable=False),
    sa.Column('speaker_key', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('audience', sa.String(length=300), nullable=False),
    sa.Column('format', sa.Enum('online', 'in_person', name='ck_eventformat', native_enum=False,
                                create_constraint=True, length=32), nullable=False),
    sa.Column('materials', sa.Text(), nullable=True),
    sa.Column('materials_file_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decision', sa.Enum('approved', 'approved_with_conditions', 'declined', name='ck_speakerdecision',
                                  native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('checks', sa.Text(), nullable=True),
    sa.Column('risk', sa.Enum('low', 'medium', 'high', name='ck_speakerrisk', native_enum=False,
                              create_constraint=True, length=32), nullable=True),
    sa.Column('conditions', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['materials_file_id'], ['stored_file.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('speaker_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_speaker_request_speaker_key'), ['speaker_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_speaker_request_event_date'), ['event_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_speaker_request_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_speaker_request_decision'), ['decision'], unique=False)
        batch_op.create_index(batch_op.f('ix_speaker_request_decided_at'), ['decided_at'], unique=False)


def downgrade():
    with op.batch_alter_table('speaker_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_speaker_request_decided_at'))
        batch_op.drop_index(batch_op.f('ix_speaker_request_decision'))
        batch_op.drop_index(batch_op.f('ix_speaker_request_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_speaker_request_event_date'))
        batch_op.drop_index(batch_op.f('ix_speaker_request_speaker_key'))
    op.drop_table('speaker_request')
