"""The Prevent Lead's page of training by role: which courses each app role and each team needs (added and removed,
each audited); compliance counts against it (app/training/requirements.py)."""
from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel.errors import Conflict
from app.kernel.page_forms import Words
from app.kernel.pages import submit
from app.training import requirements
from app.training import use_cases as training

REQUIREMENT_WORDS = {"course_id": Words(required="Choose the course they need"), "role": Words(), "team": Words()}


class TrainingRequirementView(BaseView):
    route_base = "/training/requirements"
    class_permission_name = "Training"
    method_permission_name = {"index": "manage", "add": "manage", "remove": "manage"}
    default_view = "index"

    def _render(self, *, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
                status_code: int = 200):
        return self.render_template(
            "training_requirements.html", requirements=requirements.requirements_page(db.session, g.user),
            courses=training.courses(db.session), roles=requirements.ROLE_NAMES,
            teams=[team for team in training.teams(db.session) if team != training.NO_TEAM],
            draft=draft or {}, errors=errors or {}, message=message), status_code

    @expose("/")
    @has_access
    def index(self):
        return self._render()

    @expose("/", methods=["POST"])
    @has_access
    def add(self):
        return submit(lambda p: requirements.add_requirement(g.user, p), "add", self._render,
                      "Added. Compliance now counts this course for them.", url_for("TrainingRequirementView.index"),
                      words=REQUIREMENT_WORDS)

    @expose("/<int:pk>/remove", methods=["POST"])
    @has_access
    def remove(self, pk: int):
        try:
            requirements.remove_requirement(g.user, pk)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash("Removed: compliance no longer counts this course for them.", "success")
        return redirect(url_for("TrainingRequirementView.index"))
