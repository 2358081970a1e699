"""The directory's pages: the contacts by area (officers and the Prevent Lead, with a search by local authority or
postcode), and the Lead's forms to add, change, retire and restore a contact."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.directory import use_cases as directory
from app.directory.models import ContactKind, DirectoryContact
from app.directory.schemas import KIND_LABELS
from app.extensions import db
from app.kernel import page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import form_payload
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


class DirectoryView(BaseView):
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

    def _render_form(self, contact: DirectoryContact | None, values: dict, errors: dict,
                     message: str | None = None, status_code: int | None = None):
        return self.render_template("directory_form.html", contact=contact, values=values, errors=errors,
                                    message=message, labels=KIND_LABELS), status_code or (422 if errors else 200)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._render_form(None, {}, {})
        payload = form_payload()
        try:
            contact = directory.add_contact(g.user, payload)
        except InvalidData as exc:
            return self._render_form(None, payload, page_forms.specific(exc.errors, CONTACT_WORDS))
        flash(f"{contact.name} is in the directory.", "success")
        return redirect(url_for("DirectoryView.index"))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        contact = directory.get_contact(db.session, g.user, pk)
        if request.method == "GET":
            return self._render_form(contact, _values(contact), {})
        payload = form_payload()
        try:
            directory.update_contact(g.user, pk, payload)
        except InvalidData as exc:
            return self._render_form(contact, payload, page_forms.specific(exc.errors, CONTACT_WORDS))
        except Conflict as exc:
            return self._render_form(contact, payload, {}, str(exc), 409)
        flash("Contact updated.", "success")
        return redirect(url_for("DirectoryView.index"))

    def _in_use(self, pk: int, in_use: bool, done: str):
        try:
            contact = directory.set_in_use(g.user, pk, in_use)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash(done.format(name=contact.name), "success")
        return redirect(url_for("DirectoryView.index"))

    @expose("/<int:pk>/retire", methods=["POST"])
    @has_access
    def retire(self, pk: int):
        return self._in_use(pk, False, "{name} is retired: no longer suggested, kept for the record.")

    @expose("/<int:pk>/restore", methods=["POST"])
    @has_access
    def restore(self, pk: int):
        return self._in_use(pk, True, "{name} is back in use.")
