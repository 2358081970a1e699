"""The subcontractors' pages: the list (officers, the Prevent Lead, Governance) and the Lead's forms to add, change,
retire and put back a subcontractor."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel import page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import form_payload
from app.kernel.security import can
from app.models import Subcontractor
from app.subcontractors import use_cases as subcontractors

# The form's words for the use case's messages, in the order of the form (app/kernel/page_forms.py).
SUBCONTRACTOR_WORDS = {
    "name": Words(required="Enter the subcontractor's name"),
    "contact_name": Words(), "contact_email": Words(), "contact_phone": Words(), "programmes": Words(),
    "version": Words(),
}


def _values(subcontractor: Subcontractor) -> dict[str, Any]:
    return {"name": subcontractor.name, "contact_name": subcontractor.contact_name,
            "contact_email": subcontractor.contact_email, "contact_phone": subcontractor.contact_phone,
            "programmes": subcontractor.programmes, "version": subcontractor.version}


class SubcontractorView(BaseView):
    route_base = "/subcontractors"
    class_permission_name = "Subcontractor"
    method_permission_name = {"index": "read", "new": "edit", "edit": "edit", "retire": "edit", "restore": "edit"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        found = subcontractors.listed(db.session, g.user, include_retired=True)
        return self.render_template(
            "subcontractors.html", in_use=[s for s in found if s.active], retired=[s for s in found if not s.active],
            may={"edit": can(g.user, "can_edit", "Subcontractor")})

    def _render_form(self, subcontractor: Subcontractor | None, values: dict, errors: dict,
                     message: str | None = None, status_code: int | None = None):
        return self.render_template("subcontractor_form.html", subcontractor=subcontractor, values=values,
                                    errors=errors, message=message), status_code or (422 if errors else 200)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._render_form(None, {}, {})
        payload = form_payload()
        try:
            subcontractor = subcontractors.add_subcontractor(g.user, payload)
        except InvalidData as exc:
            return self._render_form(None, payload, page_forms.specific(exc.errors, SUBCONTRACTOR_WORDS))
        except Conflict as exc:
            return self._render_form(None, payload, {}, str(exc), 409)
        flash(f"{subcontractor.name} is on the list of subcontractors.", "success")
        return redirect(url_for("SubcontractorView.index"))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        subcontractor = subcontractors.get_subcontractor(db.session, g.user, pk)
        if request.method == "GET":
            return self._render_form(subcontractor, _values(subcontractor), {})
        payload = form_payload()
        try:
            subcontractors.update_subcontractor(g.user, pk, payload)
        except InvalidData as exc:
            return self._render_form(subcontractor, payload, page_forms.specific(exc.errors, SUBCONTRACTOR_WORDS))
        except Conflict as exc:
            return self._render_form(subcontractor, payload, {}, str(exc), 409)
        flash("Subcontractor updated.", "success")
        return redirect(url_for("SubcontractorView.index"))

    def _in_use(self, pk: int, in_use: bool, done: str):
        try:
            subcontractor = subcontractors.set_in_use(g.user, pk, in_use)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash(done.format(name=subcontractor.name), "success")
        return redirect(url_for("SubcontractorView.index"))

    @expose("/<int:pk>/retire", methods=["POST"])
    @has_access
    def retire(self, pk: int):
        return self._in_use(pk, False, "{name} is retired: no longer offered on forms, kept for the record.")

    @expose("/<int:pk>/restore", methods=["POST"])
    @has_access
    def restore(self, pk: int):
        return self._in_use(pk, True, "{name} is back in use.")
