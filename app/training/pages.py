"""The training pages: one's own training, the staff list and each member's records, imports, compliance,
and the courses (reference data)."""
from __future__ import annotations

import functools
from datetime import date

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from app.extensions import db
from app.kernel import formats, page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import (
    PAGE_SIZE,
    ReferenceDataInterface,
    back_to,
    file_download,
    form_payload,
    submit,
    uploaded,
)
from app.kernel.security import can
from app.models import CourseKind, TrainingCourse, User
from app.subcontractors.use_cases import all_subcontractors
from app.training import imports as training_imports
from app.training import use_cases as training


class TrainingCourseView(ModelView):
    """Prevent training courses: the Prevent Lead can add more; courses are retired, never deleted."""

    datamodel = ReferenceDataInterface(TrainingCourse)
    list_columns = add_columns = edit_columns = ["name", "kind", "refresher_months", "active"]
    label_columns = {"refresher_months": "Refresher after (months)"}
    description_columns = {
        "kind": "Prevent: Prevent duty training, any current one meets the rule for everyone. Other: related training, "
                "counted where it is required of a role or team (Training by role).",
        "refresher_months": "Leave empty to use the provider's interval.",
    }
    add_form_extra_fields = edit_form_extra_fields = {
        # Prevent unless the Lead says otherwise (a form without the field keeps to it).
        "kind": SelectField("Kind", choices=[(CourseKind.prevent.value, "Prevent duty training"),
                                             (CourseKind.other.value, "Other (counted where required)")],
                            coerce=CourseKind, default=CourseKind.prevent, widget=Select2Widget()),
        "refresher_months": IntegerField("Refresher after (months)", validators=[Optional(), NumberRange(1, 120)]),
    }
    formatters_columns = {"kind": lambda value: formats.human(CourseKind(value))}
    base_order = ("id", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    # No row or bulk actions: FAB's generic action routes would only answer an unknown action name with a crash (500).
    exclude_route_methods = {"action", "action_post"}


def people_who_sign_in() -> list[User]:
    """Everyone active who signs in, for choosing a manager."""
    return db.session.scalars(sa.select(User).where(User.active.is_(True))
                              .order_by(User.first_name, User.last_name)).all()


# Each form's words for the use cases' messages, in the order of the form (app/kernel/page_forms.py).
RECORD_WORDS = {"course_id": Words(required="Choose the course you completed"),
                "completed_on": Words(date="the date you completed it", other={
                    page_forms.FUTURE: "The date you completed it cannot be in the future"}),
                "certificate_ref": Words(),
                "certificate": Words()}
STAFF_WORDS = {"full_name": Words(required="Enter their full name"), "team": Words(), "email": Words(),
               "employee_ref": Words(), "manager_id": Words(), "left_on": Words(date="the date they left"),
               "subcontractor_id": Words()}


class TrainingView(BaseView):
    """Prevent training: one's own (every employee); the staff list and verification (officers and the Lead); the
    staff list's upkeep and CSV imports (the Lead)."""

    route_base = "/training"
    class_permission_name = "Training"
    method_permission_name = {
        "mine": "read", "record": "record", "certificate": "read", "staff": "read_all", "staff_member": "read_all",
        "verify": "verify", "add_staff": "manage", "update_staff": "manage", "sync": "manage",
        "import_form": "manage", "check_import": "manage", "run_import": "manage",
    }
    default_view = "mine"

    def _render_mine(self, *, draft: dict | None = None, errors: dict | None = None,
                     message: str | None = None, status_code: int = 200):
        staff = training.own_staff(db.session, g.user)
        latest = staff.training[0] if staff and staff.training else None
        today = date.today()
        return self.render_template(
            "my_training.html", staff=staff, latest=latest, today=today, courses=training.courses(db.session),
            status=training.training_status(latest.refresher_due if latest else None, today),
            draft=draft or {}, errors=errors or {}, message=message, may=self._may()), status_code

    @staticmethod
    def _may() -> dict[str, bool]:
        """What the signed-in user may do on the training pages, for the pages and their shared macros."""
        return {"manage": can(g.user, "can_manage", "Training"), "verify": can(g.user, "can_verify", "Training")}

    @expose("/mine")
    @has_access
    def mine(self):
        return self._render_mine()

    @expose("/mine", methods=["POST"])
    @has_access
    def record(self):
        return submit(lambda p: training.record_completion(g.user, {**p, "certificate": uploaded("certificate")}),
                      "record", self._render_mine, "Recorded. An officer will verify it.", url_for("TrainingView.mine"),
                      words=RECORD_WORDS, dates=("completed_on",))

    @expose("/records/<int:pk>/certificate")
    @has_access
    def certificate(self, pk: int):
        return file_download(training.certificate(db.session, g.user, pk))

    def _render_staff(self, *, draft: dict | None = None, errors: dict | None = None,
                      message: str | None = None, status_code: int = 200):
        args = request.args
        status = args.get("status")
        filters = training.StaffFilters(
            search=args.get("find"), team=args.get("team") or None, leavers=args.get("leavers") == "yes",
            status=training.TrainingStatus(status) if status in training.TrainingStatus.__members__ else None)
        page = max(args.get("page", 0, type=int), 0)
        count, rows = training.list_staff(db.session, g.user, filters, page=page, page_size=PAGE_SIZE)
        waiting_count, waiting = training.list_records(db.session, g.user, training.RecordFilters(verified=False),
                                                       page_size=20)
        return self.render_template(
            "training_staff.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE, args=args,
            teams=training.teams(db.session), statuses=list(training.TrainingStatus), waiting=waiting,
            waiting_count=waiting_count, people=people_who_sign_in(), draft=draft or {}, errors=errors or {},
            subcontractors=all_subcontractors(db.session, include_retired=True),
            message=message, today=date.today(), may=self._may()), status_code

    @expose("/staff/")
    @has_access
    def staff(self):
        return self._render_staff()

    @expose("/staff/", methods=["POST"])
    @has_access
    def add_staff(self):
        return submit(lambda p: training.add_staff(g.user, p), "add", self._render_staff,
                      "Added to the staff list.", url_for("TrainingView.staff"), words=STAFF_WORDS, dates=("left_on",))

    @expose("/staff/sync", methods=["POST"])
    @has_access
    def sync(self):
        added = training.sync_staff_with_sign_ins(g.user)
        flash(f"{added} {'person' if added == 1 else 'people'} who sign in joined the staff list." if added else
              "Everyone who signs in is on the staff list already.", "success")
        return redirect(url_for("TrainingView.staff"))

    def _render_staff_member(self, pk: int, *, draft: dict | None = None, errors: dict | None = None,
                             message: str | None = None, status_code: int = 200):
        return self.render_template(
            "training_staff_member.html", staff=training.get_staff(db.session, g.user, pk),
            people=people_who_sign_in(), draft=draft or {}, errors=errors or {}, message=message,
            subcontractors=all_subcontractors(db.session, include_retired=True),
            today=date.today(), may=self._may()), status_code

    @expose("/staff/<int:pk>")
    @has_access
    def staff_member(self, pk: int):
        return self._render_staff_member(pk)

    @expose("/staff/<int:pk>", methods=["POST"])
    @has_access
    def update_staff(self, pk: int):
        return submit(lambda p: training.update_staff(g.user, pk, {**p, "active": "active" in request.form}),
                      "edit", functools.partial(self._render_staff_member, pk), "Saved.",
                      url_for("TrainingView.staff_member", pk=pk), words=STAFF_WORDS, dates=("left_on",))

    @expose("/records/<int:pk>/verify", methods=["POST"])
    @has_access
    def verify(self, pk: int):
        try:
            training.verify_record(g.user, pk)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash("Verified.", "success")
        return redirect(back_to(url_for("TrainingView.staff")))

    def _render_import(self, *, report=None, draft: dict | None = None, errors: dict | None = None,
                       message: str | None = None, status_code: int = 200):
        return self.render_template(
            "training_import.html", report=report, kinds=training_imports.IMPORT_KINDS,
            encodings=training_imports.ENCODINGS, draft=draft or {}, errors=errors or {}, message=message,
            max_mb=current_app.config["TRAINING_IMPORT_MAX_BYTES"] / (1024 * 1024)), status_code

    @expose("/import")
    @has_access
    def import_form(self):
        return self._render_import()

    @expose("/import", methods=["POST"])
    @has_access
    def check_import(self):
        payload = form_payload()
        try:
            report = training_imports.check_import(g.user, {**payload, "file": uploaded("file")})
        except InvalidData as exc:
            return self._render_import(draft=payload, status_code=422, errors=page_forms.specific(exc.errors, {
                "kind": Words(required="Choose what the file holds"), "encoding": Words(),
                "file": Words(required="Choose a CSV file")}))
        return self._render_import(report=report, draft=payload)

    @expose("/import/<int:upload_id>", methods=["POST"])
    @has_access
    def run_import(self, upload_id: int):
        payload = form_payload()
        report = training_imports.run_import(g.user, upload_id, payload)
        if report.imported is None:
            return self._render_import(report=report, draft=payload, status_code=409, message=(
                "Some rows need fixing, so nothing was imported. Fix the file and upload it again, or import the "
                "good rows only."))
        return self._render_import(report=report, draft=payload)


class ComplianceView(BaseView):
    """Training compliance: figures overall and per team; for officers and the Lead, who is overdue or due soon."""

    route_base = "/training/compliance"
    class_permission_name = "Compliance"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("training_compliance.html",
                                    compliance=training.compliance(db.session, g.user, date.today()))
