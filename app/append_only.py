"""Database triggers that make a table append-only: the database itself refuses UPDATE and DELETE (and TRUNCATE on
PostgreSQL), so that nobody, not even the app's own database user, can quietly change what was recorded.

Used by the migrations that create such tables (audit_event, access_log), and by tests that play an attacker.
"""
from __future__ import annotations

import sqlalchemy as sa


def create_statements(table: str, dialect: str) -> list[str]:
    message = f"{table} is append-only"
    if dialect == "postgresql":
        return [
            f"""
            CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{message}';
            END $$;
        """,
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()",
        ]
    return [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END" for verb in ("UPDATE", "DELETE")]


def drop_statements(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER {table}_no_truncate ON {table}",
            f"DROP TRIGGER {table}_no_update ON {table}",
            f"DROP FUNCTION {table}_refuse_change()",
        ]
    return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]


def create_triggers(connection: sa.engine.Connection, table: str) -> None:
    for statement in create_statements(table, connection.dialect.name):
        connection.execute(sa.text(statement))


def drop_triggers(connection: sa.engine.Connection, table: str) -> None:
    for statement in drop_statements(table, connection.dialect.name):
        connection.execute(sa.text(statement))
