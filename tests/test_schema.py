"""The migrations build exactly what the models describe, FAB's ab_* tables included; they undo themselves down to an
empty database and build the same schema again; and they stand alone, importing no live app code."""
import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from flask_appbuilder import Model

import app.models  # noqa: F401  (registers the app's tables on FAB's metadata)
from app.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
REVISIONS = sorted((MIGRATIONS / "versions").glob("*.py"))


def test_models_and_migrations_agree(ctx):
    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    differences = compare_metadata(context, Model.metadata)
    assert differences == []


def test_every_model_table_is_migrated(ctx):
    existing = set(db.inspect(db.session.connection()).get_table_names())
    assert set(Model.metadata.tables) <= existing
    assert {"ab_user", "ab_role", "audit_event", "prevent_case"} <= existing


# --- upgrade, downgrade to base, upgrade again ------------------------------------------------------------------

@contextmanager
def own_database(tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database for this test alone, on the tests' database server (PostgreSQL) or in a temporary file."""
    url = sa.make_url(db.engine.url.render_as_string(hide_password=False))
    if url.get_backend_name() != "postgresql":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    name = f"{url.database}_migrations"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(url.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def migrate(engine: sa.Engine, step, revision: str) -> None:
    """`step` (command.upgrade or command.downgrade) to `revision`, on `engine`'s database instead of the app's."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def schema_of(engine: sa.Engine) -> dict:
    """Every table's columns, keys, indexes and constraints, and every trigger (the append-only guards)."""
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        schema: dict = {}
        for table in sorted(inspector.get_table_names()):
            schema[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                            for c in inspector.get_columns(table)],
                "primary key": inspector.get_pk_constraint(table),
                "foreign keys": sorted(map(repr, inspector.get_foreign_keys(table))),
                "indexes": sorted(map(repr, inspector.get_indexes(table))),
                "unique": sorted(map(repr, inspector.get_unique_constraints(table))),
                "checks": sorted(map(repr, inspector.get_check_constraints(table))),
            }
        if connection.dialect.name == "postgresql":
            schema["triggers"] = connection.execute(sa.text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")).all()
            schema["functions"] = connection.execute(sa.text(
                "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' ORDER BY 1")).all()
        else:
            schema["triggers"] = connection.execute(sa.text(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).all()
    return schema


@pytest.mark.commits  # into an empty database of its own
def test_the_migrations_go_down_to_base_and_up_again_to_the_same_schema(ctx, tmp_path):
    with own_database(tmp_path) as engine:
        migrate(engine, command.upgrade, "head")
        first = schema_of(engine)
        assert {"audit_event", "access_log", "prevent_case"} <= set(first) and first["triggers"]
        migrate(engine, command.downgrade, "base")
        empty = schema_of(engine)
        assert set(empty) - {"triggers", "functions"} == {"alembic_version"}
        assert not empty["triggers"] and not empty.get("functions")
        migrate(engine, command.upgrade, "head")
        assert schema_of(engine) == first


@pytest.mark.commits  # into an empty database of its own
def test_migration_0012_chains_the_access_log_already_kept_as_the_app_verifies_it(app, ctx, tmp_path):
    from app.kernel import audit
    from app.models import AccessLogEntry
    logged = [(datetime(2026, 11, 30, 9, 15, 1, 123456), 3, 7, "page", "case", True),
              (datetime(2026, 11, 30, 9, 16), 4, 7, "api", "chronology", False)]
    audit_head_path = app.config["AUDIT_HEAD_PATH"]
    app.config["AUDIT_HEAD_PATH"] = str(tmp_path / "audit-head.json")  # not the test session's head files
    try:
        with own_database(tmp_path) as engine:
            migrate(engine, command.upgrade, "0011")
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":  # no users or cases here: the rows alone matter
                    connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
                connection.execute(sa.text(
                    "INSERT INTO access_log (at, user_id, case_id, channel, what, outside_own_work) "
                    "VALUES (:at, :user_id, :case_id, :channel, :what, :outside_own_work)"),
                    [dict(zip(("at", "user_id", "case_id", "channel", "what", "outside_own_work"), row, strict=True))
                     for row in logged])
            migrate(engine, command.upgrade, "0012")
            with engine.connect() as connection:
                chained = connection.execute(sa.text(
                    "SELECT seq, prev_hash, hash FROM access_log ORDER BY id")).all()
        prev_hash = audit.GENESIS
        for seq, ((at, user_id, case_id, channel, what, outside), row) in enumerate(zip(logged, chained, strict=True),
                                                                                    start=1):
            entry = AccessLogEntry(seq=seq, at=at.replace(tzinfo=UTC), user_id=user_id, case_id=case_id,
                                   channel=channel, what=what, outside_own_work=outside, prev_hash=prev_hash)
            assert tuple(row) == (seq, prev_hash, audit._access_seal(app.config["AUDIT_KEY"], entry))
            prev_hash = row.hash
        assert audit.read_anchor(audit.ACCESS_CHAIN) == {"seq": len(logged), "hash": prev_hash}
    finally:
        app.config["AUDIT_HEAD_PATH"] = audit_head_path


# --- each revision stands alone and says what it is ------------------------------------------------------------

@pytest.mark.parametrize("path", REVISIONS, ids=lambda path: path.stem)
def test_a_migration_imports_no_app_code(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert "app" not in imported


@pytest.mark.parametrize("path", REVISIONS, ids=lambda path: path.stem)
def test_a_migration_header_names_its_true_revision_and_predecessor(path):
    module = ast.parse(path.read_text())
    header = ast.get_docstring(module)
    assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in module.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("revision", "down_revision")}
    assert re.search(r"^Revision ID: (\w+)$", header, re.M).group(1) == assigned["revision"]
    assert (re.search(r"^Revises: ?(\w*)$", header, re.M).group(1) or None) == assigned["down_revision"]
    assert path.stem.startswith(assigned["revision"])
