"""the policy register (policy, policy_version, policy_confirmation) and British values in the programmes
(british_values_activity, learner_voice_survey)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 22:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('applies_to_all', sa.Boolean(), nullable=False),
    sa.Column('roles', sa.Text(), nullable=True),
    sa.Column('teams', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('policy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('document_url', sa.String(length=500), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['policy_id'], ['policy.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('policy_id', 'label', name='uq_policy_version_label')
    )
    with op.batch_alter_table('policy_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_version_policy_id'), ['policy_id'], unique=False)
    op.create_table('policy_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_version_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['policy_version_id'], ['policy_version.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('policy_version_id', 'user_id', name='uq_policy_confirmation')
    )
    with op.batch_alter_table('policy_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_confirmation_policy_version_id'), ['policy_version_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_policy_confirmation_user_id'), ['user_id'], unique=False)
    op.create_table('british_values_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Enum('democracy', 'rule_of_law', 'individual_liberty', 'mutual_respect',
                               name='ck_britishvalue', native_enum=False, length=32, create_constraint=True),
              nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('evidence_ref', sa.String(length=500), nullable=True),
    sa.Column('evidence_file_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['stored_file.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('british_values_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_british_values_activity_programme'), ['programme'], unique=False)
        batch_op.create_index(batch_op.f('ix_british_values_activity_held_on'), ['held_on'], unique=False)
    op.create_table('learner_voice_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    *[sa.Column(f'{question}_{part}', sa.Integer(), nullable=True)
      for question in ('feel_safe', 'british_values', 'know_how_to_report', 'respected')
      for part in ('agree', 'total')],
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('learner_voice_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_voice_survey_programme'), ['programme'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_voice_survey_period_end'), ['period_end'], unique=False)


def downgrade():
    op.drop_table('learner_voice_survey')
    op.drop_table('british_values_activity')
    op.drop_table('policy_confirmation')
    op.drop_table('policy_version')
    op.drop_table('policy')
