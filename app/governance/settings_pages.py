"""The provider's settings page: each setting its keeper may change (the Prevent Lead: the grace before a post-exit
review is due). Reads the form, calls app/governance/settings.py, shows it again with what was typed on a refusal."""
from __future__ import annotations

from flask import flash, g, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.governance import settings
from app.kernel.pages import submit


class SettingsView(BaseView):
    route_base = "/settings"
    class_permission_name = "Settings"
    method_permission_name = {"index": "manage", "save": "manage"}
    default_view = "index"

    def _page(self, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
              status_code: int = 200):
        if message and not errors:
            flash(message, "warning")
        return self.render_template("settings.html", shown=settings.current(db.session, g.user), draft=draft or {},
                                    errors=errors or {}, message=message), status_code

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    @expose("/", methods=["POST"])
    @has_access
    def save(self):
        return submit(lambda payload: settings.change(g.user, payload), "settings", self._page, "Settings saved.",
                      url_for("SettingsView.index"))
