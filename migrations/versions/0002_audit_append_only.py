"""audit_event is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "audit_event is append-only"


def create_statements(dialect: str) -> list[str]:
    """The DDL that makes audit_event append-only on this dialect ("postgresql" or "sqlite")."""
    if dialect == "postgresql":
        return [
            f"""
            CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END $$;
        """,
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()",
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()",
        ]
    return [f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END" for verb in ("UPDATE", "DELETE")]


def drop_statements(dialect: str) -> list[str]:
    """The DDL that undoes `create_statements`."""
    if dialect == "postgresql":
        return [
            "DROP TRIGGER audit_event_no_truncate ON audit_event",
            "DROP TRIGGER audit_event_no_update ON audit_event",
            "DROP FUNCTION audit_event_refuse_change()",
        ]
    return ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"]


def create_triggers(connection: sa.engine.Connection) -> None:
    """Makes audit_event append-only through `connection` (used by tests that restore the triggers)."""
    for statement in create_statements(connection.dialect.name):
        connection.execute(sa.text(statement))


def drop_triggers(connection: sa.engine.Connection) -> None:
    for statement in drop_statements(connection.dialect.name):
        connection.execute(sa.text(statement))


def upgrade():
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
