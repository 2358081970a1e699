"""the directory of Prevent contacts by area (directory_contact): police Prevent teams, Channel leads, MASH front
doors and the DfE's regional Prevent coordinators, kept by the Prevent Lead

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 21:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('directory_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('police_prevent', 'channel_lead', 'mash', 'dfe_coordinator', name='ck_contactkind',
                              native_enum=False, length=32, create_constraint=True), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('local_authorities', sa.Text(), nullable=False),
    sa.Column('postcode_districts', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('directory_contact')
