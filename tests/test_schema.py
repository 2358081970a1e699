"""The migrations build exactly what the models describe, FAB's ab_* tables included."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

import app.models  # noqa: F401  (registers the app's tables on FAB's metadata)
from app.extensions import db


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Model.metadata)
    assert differences == []


def test_every_model_table_is_migrated(ctx):
    with db.engine.connect() as connection:
        existing = set(db.inspect(connection).get_table_names())
    assert set(Model.metadata.tables) <= existing
    assert {"ab_user", "ab_role", "audit_event", "prevent_case"} <= existing
