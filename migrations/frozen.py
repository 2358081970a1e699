"""What the migrations need beyond Alembic and SQLAlchemy, frozen: a revision must build the same thing whenever it
runs, so no migration imports live app code. Once a migration uses a name here, that name never changes; a revision
that needs something different adds a new name.

Append-only tables: database triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), so that nobody, not
even the app's own database user, can quietly change what was recorded (audit_event since 0002, access_log since
0005; 0008 allows retention's one UPDATE, which empties the erasable columns).
"""
from __future__ import annotations

import sqlalchemy as sa


def append_only_statements(table: str, dialect: str, erasable: tuple[str, ...] = (), kept: tuple[str, ...] = ()
                           ) -> list[str]:
    """The triggers' DDL. With `erasable` columns, the one UPDATE allowed sets all of them to NULL and leaves every
    column in `kept` as it was: retention erases personal data from a record whose existence stays provable."""
    message = f"{table} is append-only"
    # Equal, NULLs included; compared as text on PostgreSQL, where a json column has no equality.
    same = "NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text" if dialect == "postgresql" else "NEW.{c} IS OLD.{c}"
    erasure = " AND ".join([f"NEW.{c} IS NULL" for c in erasable] + [same.format(c=c) for c in kept])
    if dialect == "postgresql":
        allow = f"IF TG_OP = 'UPDATE' AND {erasure} THEN RETURN NEW; END IF;" if erasable else ""
        return [
            f"""
            CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {allow}
                RAISE EXCEPTION '{message}';
            END $$;
        """,
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()",
        ]
    when = {"UPDATE": f" WHEN NOT ({erasure})" if erasable else "", "DELETE": ""}
    return [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}{when[verb]} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END" for verb in ("UPDATE", "DELETE")]


def drop_append_only_statements(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER {table}_no_truncate ON {table}",
            f"DROP TRIGGER {table}_no_update ON {table}",
            f"DROP FUNCTION {table}_refuse_change()",
        ]
    return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]


def create_append_only_triggers(connection: sa.engine.Connection, table: str, erasable: tuple[str, ...] = (),
                                kept: tuple[str, ...] = ()) -> None:
    for statement in append_only_statements(table, connection.dialect.name, erasable, kept):
        connection.execute(sa.text(statement))


def drop_append_only_triggers(connection: sa.engine.Connection, table: str) -> None:
    for statement in drop_append_only_statements(table, connection.dialect.name):
        connection.execute(sa.text(statement))
