"""The directory's pages: the contacts by area (officers and the Prevent Lead, with a search by local authority or
postcode), and the Lead's forms to add, change, retire and restore a contact."""
from __future__ import annotations

from typing import Any

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access

from app.directory import use_cases as directory
from app.directory.models import ContactKind, DirectoryContact
from app.directory.schemas import KIND_LABELS
from app.extensions import db
from app.kernel import page_forms
from app.kernel.errors import InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import KeptList
from app.kernel.security import can

# The form's words for the use case's messages, in the order of the form (app/kernel/page_forms.py).
CONTACT_WORDS = {
    "kind": Words(required="Choose what kind of contact this is"),
    "name": Words(required="Enter the name of the person, team or service"),
    "organisation": Words(), "phone": Words(), "email": Words(),
    "local_authorities": Words(required="Enter the local authorities the contact covers, one a line"),
    "region": Words(), "postcode_districts": Words(), "notes": Words(), "version": Words(),
}
SEARCH_WORDS = {"local_authority": Words(), "postcode": Words()}


def _values(contact: DirectoryContact) -> dict[str, Any]:
    """A contact as its form shows it."""
    return {"kind": contact.kind.value, "name": contact.name, "organisation": contact.organisation,
            "phone": contact.phone, "email": contact.email, "notes": contact.notes, "region": contact.region,
            "local_authorities": contact.local_authorities, "postcode_districts": ", ".join(contact.district_list),
            "version": contact.version}


class DirectoryView(KeptList, BaseView):
    """Whom to call for an area: police Prevent teams, Channel leads, MASH front doors, DfE coordinators."""

    route_base = "/directory"
    class_permission_name = "Directory"
    method_permission_name = {"index": "read", "new": "edit", "edit": "edit", "retire": "edit", "restore": "edit"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        search = {name: request.args.get(name, "").strip() for name in SEARCH_WORDS}
        searched = any(search.values())
        errors: dict[str, list[str]] = {}
        try:
            contacts = directory.find(db.session, g.user, search["local_authority"] or None,
                                      search["postcode"] or None)
        except InvalidData as exc:
            errors, contacts = page_forms.specific(exc.errors, SEARCH_WORDS), []
        may_edit = can(g.user, "can_edit", "Directory")
        return self.render_template(
            "directory.html", contacts=contacts, search=search, searched=searched, errors=errors,
            kinds=list(ContactKind), labels=KIND_LABELS, may={"edit": may_edit},
            retired=directory.retired(db.session, g.user) if may_edit and not searched else [],
        ), (422 if errors else 200)

    # The Lead's forms (app/kernel/pages.py KeptList)
    form_template, record_name = "directory_form.html", "contact"
    words = CONTACT_WORDS
    updated = "Contact updated."
    retired = "{name} is retired: no longer suggested, kept for the record."

    def form_context(self) -> dict[str, Any]:
        return {"labels": KIND_LABELS}

    get_record = staticmethod(directory.get_contact)
    add_record = staticmethod(directory.add_contact)
    update_record = staticmethod(directory.update_contact)
    set_in_use = staticmethod(directory.set_in_use)
    values = staticmethod(_values)

    @staticmethod
    def added(contact: DirectoryContact) -> str:
        return f"{contact.name} is in the directory."
