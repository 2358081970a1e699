"""Application factory. Nothing happens at import time."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.extensions import appbuilder, csrf, db, mail, migrate
from app.identity.passwords import check_password
from app.kernel.security import fab_roles
from app.kernel.validation import LARGEST_INT

BASE_DIR = Path(__file__).resolve().parent.parent


class DatabaseId(IntegerConverter):
    """An id in a URL. One past the largest INTEGER key (32 bits on PostgreSQL) is read as 0, which names no record:
    the endpoint answers 404 as for any missing record. (Refusing it in the converter instead would make werkzeug
    answer 405 wherever the same path takes another method.)"""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= LARGEST_INT else 0


def create_app(config_object: object | str = "config.Config") -> Flask:
    app = Flask(__name__)
    app.config.from_object(config_object)
    app.config["FAB_ROLES"] = fab_roles()
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = check_password
    for required in ("SECRET_KEY", "AUDIT_KEY"):
        if not app.config.get(required):
            raise RuntimeError(f"{required} is not set. Set it in the environment (make run writes local ones "
                               "to instance/prevent.env).")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # Ids in URLs are database integers: a larger number finds no record (404) instead of overflowing the driver.
    app.url_map.converters["int"] = DatabaseId
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    mail.init_app(app)
    # Before AppBuilder, so that its REST blueprints are exempted correctly (they authenticate by token).
    csrf.init_app(app)
    with app.app_context():
        appbuilder.init_app(app, db.session)
        from app import api, views
        from app.identity import two_step_pages
        views.register(appbuilder)
        two_step_pages.register_views(appbuilder)
        for api_class in api.API_CLASSES:
            appbuilder.add_api(api_class)
    from app import cli
    from app.drafts import pages as drafts
    from app.identity import sessions, sign_in
    from app.kernel import errors_web, http_headers
    sessions.register(app)
    drafts.register(app)
    sign_in.register(app)
    cli.register(app)
    errors_web.register(app)
    http_headers.register(app)
    two_step_pages.register(app)
    api.register(app)
    return app
