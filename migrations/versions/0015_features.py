"""features on a concern: files attached to it (case_attachment, the file kept in stored_file) and the others
involved in it (case_person_involved)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['prevent_case.id'], ),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachment_case_id'), ['case_id'], unique=False)
    op.create_table('case_person_involved',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('relationship', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['prevent_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_person_involved', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_person_involved_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_person_involved', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_person_involved_case_id'))
    op.drop_table('case_person_involved')
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachment_case_id'))
    op.drop_table('case_attachment')
