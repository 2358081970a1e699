"""audit_event is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from migrations import frozen

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "audit_event"


def create_triggers(connection: sa.engine.Connection) -> None:
    """Makes audit_event append-only through `connection` (used by tests that restore the triggers)."""
    frozen.create_append_only_triggers(connection, TABLE)


def drop_triggers(connection: sa.engine.Connection) -> None:
    frozen.drop_append_only_triggers(connection, TABLE)


def upgrade():
    create_triggers(op.get_bind())


def downgrade():
    drop_triggers(op.get_bind())
