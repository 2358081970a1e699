"""pathway rules: who answered for consent and the onward route after a panel decision (prevent_case.consent_by,
prevent_case.onward), the closure outcome onward_support, and the provider's settings (provider_setting), the first
of them the grace before a post-exit review is due

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OUTCOMES = ('no_further_action', 'internal_safeguarding', 'signposted', 'police_no_further_action', 'police_closed',
            'screened_out', 'not_adopted', 'consent_declined', 'support_completed')
NEW_OUTCOMES = OUTCOMES[:-1] + ('onward_support', 'support_completed')


def outcome_type(values):
    return sa.Enum(*values, name='ck_closureoutcome', native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table('provider_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('prevent_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('onward', sa.String(length=32), nullable=True))
        batch_op.alter_column('closure_outcome', existing_type=outcome_type(OUTCOMES),
                              type_=outcome_type(NEW_OUTCOMES), existing_nullable=True)


def downgrade():
    # The outcome the older schema does not know reads as the one it stood for there.
    op.execute("UPDATE prevent_case SET closure_outcome = 'not_adopted' WHERE closure_outcome = 'onward_support'")
    with op.batch_alter_table('prevent_case', schema=None) as batch_op:
        batch_op.alter_column('closure_outcome', existing_type=outcome_type(NEW_OUTCOMES),
                              type_=outcome_type(OUTCOMES), existing_nullable=True)
        batch_op.drop_column('onward')
        batch_op.drop_column('consent_by')
    op.drop_table('provider_setting')
