"""The subcontractors' pages: the list (officers, the Prevent Lead, Governance) and the Lead's forms to add, change,
retire and put back a subcontractor."""
from __future__ import annotations

from typing import Any

from flask import g
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel.page_forms import Words
from app.kernel.pages import KeptList
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


class SubcontractorView(KeptList, BaseView):
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

    # The Lead's forms (app/kernel/pages.py KeptList)
    form_template, record_name = "subcontractor_form.html", "subcontractor"
    words = SUBCONTRACTOR_WORDS
    updated = "Subcontractor updated."
    retired = "{name} is retired: no longer offered on forms, kept for the record."
    get_record = staticmethod(subcontractors.get_subcontractor)
    add_record = staticmethod(subcontractors.add_subcontractor)
    update_record = staticmethod(subcontractors.update_subcontractor)
    set_in_use = staticmethod(subcontractors.set_in_use)
    values = staticmethod(_values)

    @staticmethod
    def added(subcontractor: Subcontractor) -> str:
        return f"{subcontractor.name} is on the list of subcontractors."
