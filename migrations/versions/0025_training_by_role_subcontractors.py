"""training by role and subcontracted provision: a course's kind and refresher interval, the Lead's training
requirements by role or team (training_requirement), subcontractors (subcontractor), and links to a subcontractor
from the staff list and from a concern's subject

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subcontractor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('contact_phone', sa.String(length=50), nullable=True),
    sa.Column('programmes', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('prevent', 'other', name='ck_coursekind', native_enum=False,
                                                      length=32, create_constraint=True),
                                      nullable=False, server_default='prevent'))
        batch_op.add_column(sa.Column('refresher_months', sa.Integer(), nullable=True))
    op.create_table('training_requirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(role IS NULL) <> (team IS NULL)', name='ck_training_requirement_who'),
    sa.ForeignKeyConstraint(['course_id'], ['training_course.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_requirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_requirement_course_id'), ['course_id'], unique=False)
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subcontractor_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_member_subcontractor_id'), ['subcontractor_id'], unique=False)
        batch_op.create_foreign_key('fk_staff_member_subcontractor_id_subcontractor', 'subcontractor',
                                    ['subcontractor_id'], ['id'])
    with op.batch_alter_table('subject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subcontractor_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_subject_subcontractor_id'), ['subcontractor_id'], unique=False)
        batch_op.create_foreign_key('fk_subject_subcontractor_id_subcontractor', 'subcontractor',
                                    ['subcontractor_id'], ['id'])


def downgrade():
    with op.batch_alter_table('subject', schema=None) as batch_op:
        batch_op.drop_constraint('fk_subject_subcontractor_id_subcontractor', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_subject_subcontractor_id'))
        batch_op.drop_column('subcontractor_id')
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_constraint('fk_staff_member_subcontractor_id_subcontractor', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_staff_member_subcontractor_id'))
        batch_op.drop_column('subcontractor_id')
    with op.batch_alter_table('training_requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_requirement_course_id'))
    op.drop_table('training_requirement')
    with op.batch_alter_table('training_course', schema=None) as batch_op:
        batch_op.drop_column('refresher_months')
        batch_op.drop_constraint('ck_coursekind', type_='check')
        batch_op.drop_column('kind')
    op.drop_table('subcontractor')
