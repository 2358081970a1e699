"""The employer pages: the list and each employer's page with its communication log, coverage, and the
public acknowledgement page an employer's contact reaches from the awareness email."""
from __future__ import annotations

import functools
from datetime import date
from typing import Any

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.employers import awareness, schemas
from app.employers import use_cases as employers
from app.extensions import db
from app.kernel import files, page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import PAGE_SIZE, file_download, form_payload, submit
from app.kernel.security import can

EMPLOYER_FIELDS = ("name", "address", "sector", "contact_name", "contact_email", "contact_phone", "director_id",
                   "active", "version")
# Each form's words for the use cases' messages, in the order of the form (app/kernel/page_forms.py).
EMPLOYER_WORDS = {name: Words() for name in EMPLOYER_FIELDS} | {"name": Words(required="Enter the employer's name")}
COMMUNICATION_WORDS = {
    "occurred_on": Words(date="the date of the communication"),
    "method": Words(required="Choose how it was shared"),
    "shared": Words(),
    "summary": Words(),
    "acknowledged_on": Words(date="the date it was acknowledged"),
    "acknowledged_by": Words(required="Enter who acknowledged it"),
    "next_contact_due": Words(date="the next contact date"),
}
ATTACHMENT_WORDS = {"kind": Words(required="Choose what the file is"), "file": Words(required="Choose a file")}
COMMUNICATION_DATES = ("occurred_on", "acknowledged_on", "next_contact_due")


class EmployerView(BaseView):
    """Partner employers (a Programme Director's own; the Prevent Lead's: all), each with its communications log,
    attachments and the awareness email. Apprentices show by name and programme only, never anything of a case."""

    route_base = "/employers"
    class_permission_name = "Employer"
    method_permission_name = {
        "index": "read", "show": "read", "download": "read", "new": "create", "edit": "edit",
        "log_communication": "edit", "record_acknowledgement": "edit", "add_attachment": "edit",
        "send_awareness_email": "edit",
    }
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        page = max(request.args.get("page", 0, type=int), 0)
        count, rows = employers.list_employers(db.session, g.user, page=page, page_size=PAGE_SIZE)
        return self.render_template("employer_list.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE,
                                    today=date.today(), may={"add": can(g.user, "can_create", "Employer"),
                                                             "see_directors": can(g.user, "can_read_all", "Employer")})

    def _render_form(self, employer, values: dict, errors: dict, message: str | None = None,
                     status_code: int | None = None):
        directors = employers.director_choices(db.session) if can(g.user, "can_read_all", "Employer") else None
        return self.render_template("employer_form.html", employer=employer, values=values, errors=errors,
                                    message=message, directors=directors), status_code or (422 if errors else 200)

    @staticmethod
    def _posted_details() -> dict[str, Any]:
        payload = form_payload()
        payload["active"] = "active" in request.form  # an unticked box sends nothing
        return payload

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._render_form(None, {"active": True}, {})
        payload = self._posted_details()
        try:
            employer = employers.create_employer(g.user, payload)
        except InvalidData as exc:
            return self._render_form(None, payload, page_forms.specific(exc.errors, EMPLOYER_WORDS))
        flash("Employer added.", "success")
        return redirect(url_for("EmployerView.show", pk=employer.id))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        employer, _ = employers.get_employer(db.session, g.user, pk)
        if request.method == "GET":
            return self._render_form(employer, {name: getattr(employer, name) for name in EMPLOYER_FIELDS}, {})
        payload = self._posted_details()
        try:
            employers.update_employer(g.user, pk, payload)
        except InvalidData as exc:
            return self._render_form(employer, payload, page_forms.specific(exc.errors, EMPLOYER_WORDS))
        except Conflict as exc:
            return self._render_form(employer, payload, {}, str(exc), 409)
        flash("Employer updated.", "success")
        return redirect(url_for("EmployerView.show", pk=pk))

    def _render_employer(self, pk: int, *, draft: dict | None = None, errors: dict | None = None,
                         message: str | None = None, status_code: int = 200):
        employer, standing = employers.get_employer(db.session, g.user, pk)
        return self.render_template(
            "employer_page.html", employer=employer, standing=standing, today=date.today(),
            apprentices=employers.apprentices(db.session, g.user, employer),
            communications=employers.communications(db.session, g.user, pk),
            draft=draft or {}, errors=errors or {}, message=message, methods=schemas.METHODS,
            shared_items=schemas.SHARED_ITEMS, attachment_kinds=schemas.ATTACHMENT_KINDS,
            upload_types=files.allowed_types(), upload_max_mb=current_app.config["UPLOAD_MAX_BYTES"] / (1024 * 1024),
            interval_months=current_app.config["EMPLOYER_CONTACT_INTERVAL_MONTHS"],
            may={"edit": can(g.user, "can_edit", "Employer")},
        ), status_code

    def _post(self, pk: int, form_name: str, call, success: str, *list_fields: str, words=None):
        return submit(call, form_name, functools.partial(self._render_employer, pk), success,
                      url_for("EmployerView.show", pk=pk), *list_fields, words=words or COMMUNICATION_WORDS,
                      dates=COMMUNICATION_DATES)

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render_employer(pk)

    @expose("/<int:pk>/communications", methods=["POST"])
    @has_access
    def log_communication(self, pk: int):
        return self._post(pk, "communication", lambda p: employers.log_communication(g.user, pk, p),
                          "Communication logged.", "shared")

    @expose("/<int:pk>/communications/<int:communication_id>/acknowledgement", methods=["POST"])
    @has_access
    def record_acknowledgement(self, pk: int, communication_id: int):
        return self._post(pk, f"acknowledge:{communication_id}",
                          lambda p: employers.record_acknowledgement(g.user, pk, communication_id, p),
                          "Acknowledgement recorded.")

    @expose("/<int:pk>/communications/<int:communication_id>/attachments", methods=["POST"])
    @has_access
    def add_attachment(self, pk: int, communication_id: int):
        upload = request.files.get("file")

        def call(payload):
            employers.add_attachment(g.user, pk, communication_id, payload, upload.filename if upload else "",
                                     upload.read() if upload else b"")
        return self._post(pk, f"attach:{communication_id}", call, "File attached.", words=ATTACHMENT_WORDS)

    @expose("/<int:pk>/attachments/<int:attachment_id>")
    @has_access
    def download(self, pk: int, attachment_id: int):
        return file_download(employers.attachment_file(db.session, g.user, pk, attachment_id))

    @expose("/<int:pk>/awareness-email", methods=["POST"])
    @has_access
    def send_awareness_email(self, pk: int):
        return self._post(pk, "awareness", lambda p: awareness.send_awareness_email(g.user, pk),
                          "The awareness email is on its way, and logged below.")


class CoverageView(BaseView):
    """Employer awareness coverage: figures for Governance; for the Prevent Lead, named and with the overdue list."""

    route_base = "/coverage"
    class_permission_name = "Coverage"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("coverage.html", coverage=employers.coverage(db.session, g.user, date.today()))


class EmployerAcknowledgementView(BaseView):
    """Where the awareness email's link leads an employer's Prevent contact, who has no account: the signed link is
    the key. Opening it records nothing (mail systems open links to scan them); pressing Confirm records it, once."""

    route_base = awareness.ACK_PATH
    default_view = "confirm"

    def _refused(self, refusal: awareness.AcknowledgementLinkRefused):
        return self.render_template("employer_acknowledgement.html", refusal=refusal), refusal.status_code

    @expose("/<token>", methods=["GET"])
    def confirm(self, token: str):
        try:
            communication = awareness.acknowledgement_request(db.session, token)
        except awareness.AcknowledgementLinkRefused as refusal:
            return self._refused(refusal)
        return self.render_template("employer_acknowledgement.html", communication=communication, token=token)

    @expose("/<token>", methods=["POST"])
    def acknowledge(self, token: str):
        try:
            communication = awareness.acknowledge_by_link(token)
        except awareness.AcknowledgementLinkRefused as refusal:
            return self._refused(refusal)
        return self.render_template("employer_acknowledgement.html", communication=communication, recorded=True)
