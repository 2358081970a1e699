"""Pages. Each reads input, calls one service, renders. No business rules here: they live in the services,
app/workflow.py and app/security.py. What the user may do reaches a template as `may`, worked out here once per page
(templates never call `can`); dates, times and stored names are shown through the filters of app/formats.py."""
from __future__ import annotations

import functools
import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, IndexView, ModelView, expose, has_access
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SelectField
from wtforms.validators import DataRequired

from app import audit, charts, files, formats, idempotency, notify, outbox, workflow
from app.errors import Conflict, InvalidData
from app.extensions import db
from app.models import CaseStatus, ConcernType, Indicator, IndicatorKind, StoredFile, TrainingCourse, User
from app.security import CaseAccess, can, case_workers
from app.services import (
    access,
    accounts,
    actions,
    cases,
    employers,
    oversight,
    preferences,
    reports,
    retention,
    subjects,
    training,
)
from app.services.cases import CaseFilters

PAGE_SIZE = 25


def form_payload(*list_fields: str) -> dict[str, Any]:
    """The posted form as the services' payload: nested `subject.x` fields, lists for multi-value fields."""
    payload: dict[str, Any] = {}
    for key in request.form:
        if key == "csrf_token":
            continue
        if key in list_fields:
            payload[key] = request.form.getlist(key)
        elif key.startswith("subject."):
            payload.setdefault("subject", {})[key.split(".", 1)[1]] = request.form[key]
        else:
            payload[key] = request.form[key]
    return payload


def submit(call, form_name: str, render, success: str, done_url: str, *list_fields: str):
    """Runs one service with the posted form. On a refusal, `render(draft=, errors=, message=, status_code=)` shows
    the page again with what was typed (`draft["form"]` says which of its forms); else on to `done_url`."""
    payload = form_payload(*list_fields)
    try:
        call(payload)
    except InvalidData as exc:
        return render(draft={"form": form_name, **payload}, errors=exc.errors,
                      message="Some fields need attention: nothing was saved yet.", status_code=422)
    except Conflict as exc:
        return render(draft={"form": form_name, **payload}, message=str(exc), status_code=409)
    flash(success, "success")
    return redirect(done_url)


def file_download(stored: StoredFile):
    """A kept file as a download: never shown inline, never sniffed into another type, never cached."""
    response = send_file(io.BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self):
        """FAB's home page, with the buttons this user may use."""
        self.update_redirect()
        user = g.user
        return self.render_template(self.index_template, appbuilder=self.appbuilder, may={
            "raise_concern": can(user, "can_raise"), "see_own_concerns": can(user, "can_read_own"),
            "see_cases": can(user, "can_read_all"), "see_employers": can(user, "can_read", "Employer"),
            "record_training": can(user, "can_record", "Training")})


class ConcernView(BaseView):
    """Raising a concern, for every employee, and following one's own concerns."""

    route_base = "/concerns"
    class_permission_name = "Case"
    method_permission_name = {"new": "raise", "raised": "raise", "mine": "read_own"}
    default_view = "new"

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        payload: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        # One form, one case: sent twice (a double click, a reload), it raises the concern once.
        form_token = idempotency.form_token()
        if request.method == "POST":
            payload = form_payload("indicator_ids")
            payload.pop("form_token", None)
            payload["immediate_danger"] = "immediate_danger" in request.form

            def raise_concern():
                case = cases.raise_concern(g.user, payload, naive_zone=formats.UK)
                return redirect(url_for("ConcernView.raised", pk=case.id))

            try:
                response, repeated = idempotency.once(f"concern-form:{form_token}", raise_concern)
            except InvalidData as exc:
                errors = exc.errors
            except idempotency.StillRunning:
                flash("This form was already sent: your concern is in the list below.", "info")
                return redirect(url_for("ConcernView.mine"))
            else:
                if repeated:
                    flash("This form was already sent: your concern was saved once, and nothing was sent twice.",
                          "info")
                return response
        found = []
        search = request.args.get("find", "").strip()
        if search and can(g.user, "can_read", "Subject"):
            found = subjects.search_subjects(db.session, g.user, search)
        indicators = db.session.scalars(sa.select(Indicator).where(Indicator.active.is_(True))
                                        .order_by(Indicator.position)).all()
        grouped = {kind: [i for i in indicators if i.kind == kind] for kind in IndicatorKind}
        types = db.session.scalars(sa.select(ConcernType).where(ConcernType.active.is_(True))
                                   .order_by(ConcernType.position)).all()
        return self.render_template(
            "concern_form.html", payload=payload, errors=errors, grouped=grouped, types=types, found=found,
            search=search, contacts=current_app.config["SAFEGUARDING_CONTACTS"],
            can_pick_subject=can(g.user, "can_read", "Subject"), form_token=form_token,
        ), (422 if errors else 200)

    @expose("/<int:pk>/raised")
    @has_access
    def raised(self, pk: int):
        case = cases.own_concern(db.session, g.user, pk)
        return self.render_template("concern_raised.html", case=case,
                                    contacts=current_app.config["SAFEGUARDING_CONTACTS"],
                                    may={"see_own_concerns": can(g.user, "can_read_own")})

    @expose("/mine")
    @has_access
    def mine(self):
        page = request.args.get("page", 0, type=int)
        count, rows = cases.list_cases(db.session, g.user, CaseFilters(reporter_id=g.user.id),
                                       page=max(page, 0), page_size=PAGE_SIZE)
        return self.render_template("my_concerns.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE)


class CaseView(BaseView):
    """Officers' list and the case page, with the workflow, actions, notes and (for the Lead) the audit trail."""

    route_base = "/cases"
    class_permission_name = "Case"
    method_permission_name = {
        "index": "read_all", "show": "read", "take_event": "transition", "immediate_risk": "record_risk",
        "add_action": "manage_actions", "update_action": "manage_actions", "add_note": "transition",
        "grant_access": "grant_access", "revoke_access": "grant_access", "add_review": "review", "review": "read_audit",
        "export": "export", "break_glass": "break_glass",
    }
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        args = request.args
        filters = CaseFilters(
            status=CaseStatus(args["status"]) if args.get("status") in CaseStatus.__members__ else None,
            concern_type_id=args.get("concern_type_id", type=int),
            urgent=True if args.get("urgent") == "yes" else None,
            overdue=True if args.get("overdue") == "yes" else None,
            stalled=True if args.get("stalled") == "yes" else None,
            action_owner_id=args.get("owner", type=int),
            search=args.get("find"),
        )
        page = max(args.get("page", 0, type=int), 0)
        count, rows = cases.list_cases(db.session, g.user, filters, page=page, page_size=PAGE_SIZE)
        types = db.session.scalars(sa.select(ConcernType).order_by(ConcernType.position)).all()
        return self.render_template("case_list.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE,
                                    statuses=list(CaseStatus), types=types, owners=case_workers(db.session),
                                    args=args, sealed=access.sealed_by_reference(db.session, g.user, filters.search))

    def _render_case(self, pk: int, *, opening: bool = False, draft: dict | None = None,
                     errors: dict | None = None, message: str | None = None, status_code: int = 200):
        """The case page; `opening` it (not showing it again after a refused form) is logged in the access log."""
        sealed = access.sealed_case(db.session, g.user, pk)
        if sealed is not None:  # the Lead, on a restricted case not given to them: why they would open it
            return self.render_template("break_glass.html", case=sealed, draft=draft or {}, errors=errors or {},
                                        message=message, hours=current_app.config["BREAK_GLASS_HOURS"]), \
                (403 if status_code == 200 else status_code)
        view = cases.read_case(g.user, pk, "page") if opening else cases.get_case(db.session, g.user, pk)
        if view.access is not CaseAccess.FULL:
            return self.render_template("concern_reporter_view.html", case=view.case), status_code
        case = view.case
        context = dict(
            case=case, draft=draft or {}, errors=errors or {}, message=message, today=date.today(),
            events=workflow.allowed_events(case.status, lambda permission: can(g.user, permission)),
            chronology=cases.chronology(db.session, g.user, pk),
            earlier=cases.earlier_concerns(db.session, g.user, case),
            stalled=cases.is_stalled(db.session, case.id),
            owners=case_workers(db.session), note_kinds=cases.NOTE_KINDS,
            trail=cases.audit_trail(db.session, g.user, pk) if can(g.user, "can_read_audit") else None,
            may={"export": can(g.user, "can_export"), "record_risk": can(g.user, "can_record_risk"),
                 "manage_actions": can(g.user, "can_manage_actions"), "transition": can(g.user, "can_transition")},
        )
        if case.restricted:
            context.update(broken_glass=access.broken_glass(db.session, pk))
        if case.restricted and can(g.user, "can_grant_access"):
            context.update(granted=access.granted_users(db.session, pk),
                           grant_candidates=access.grant_candidates(db.session, case))
        if can(g.user, "can_review"):
            context.update(reviews=oversight.reviews_of(db.session, pk),
                           seen_by=oversight.who_has_seen(db.session, g.user, pk))
        return self.render_template("case_page.html", **context), status_code

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render_case(pk, opening=True)

    def _post(self, pk: int, form_name: str, call, success: str, *list_fields: str):
        return submit(call, form_name, functools.partial(self._render_case, pk), success,
                      url_for("CaseView.show", pk=pk), *list_fields)

    @expose("/<int:pk>/transition", methods=["POST"])
    @has_access
    def take_event(self, pk: int):
        def call(payload):
            if payload.get("version"):
                payload["version"] = int(payload["version"]) if payload["version"].isdigit() else -1
            cases.transition(g.user, pk, payload)
        return self._post(pk, "event:" + request.form.get("event", ""), call, "Recorded.")

    @expose("/<int:pk>/immediate-risk", methods=["POST"])
    @has_access
    def immediate_risk(self, pk: int):
        return self._post(pk, "risk", lambda p: cases.record_immediate_risk(g.user, pk, p),
                          "Immediate risk recorded; the case is marked urgent.")

    @expose("/<int:pk>/actions", methods=["POST"])
    @has_access
    def add_action(self, pk: int):
        return self._post(pk, "action", lambda p: actions.add_action(g.user, pk, p), "Action added.")

    @expose("/<int:pk>/actions/<int:action_id>", methods=["POST"])
    @has_access
    def update_action(self, pk: int, action_id: int):
        return self._post(pk, f"action:{action_id}", lambda p: actions.update_action(g.user, action_id, p),
                          "Action updated.")

    @expose("/<int:pk>/notes", methods=["POST"])
    @has_access
    def add_note(self, pk: int):
        return self._post(pk, "note", lambda p: cases.add_note(g.user, pk, p), "Note added.")

    @expose("/<int:pk>/review")
    @has_access
    def review(self, pk: int):
        """The Lead's case review: the chronology and the audit trail side by side, filtered by kind and person."""
        view = cases.read_case(g.user, pk, "page", what="review")
        kind, person = request.args.get("kind") or None, request.args.get("person") or None
        items = cases.chronology(db.session, g.user, pk)
        trail = cases.audit_trail(db.session, g.user, pk)
        return self.render_template(
            "case_review.html", case=view.case, kind=kind, person=person,
            kinds=sorted({i.kind for i in items} | {e.action for e in trail}),
            people=sorted({i.actor for i in items} | {e.actor for e in trail}),
            chronology=[i for i in items if kind in (None, i.kind) and person in (None, i.actor)],
            trail=[e for e in trail if kind in (None, e.action) and person in (None, e.actor)])

    @expose("/<int:pk>/export")
    @has_access
    def export(self, pk: int):
        try:
            made = oversight.export_chronology(g.user, pk, dict(request.args))
        except InvalidData:
            flash("Choose PDF or CSV.", "warning")
            return redirect(url_for("CaseView.show", pk=pk))
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)

    @expose("/<int:pk>/reviews", methods=["POST"])
    @has_access
    def add_review(self, pk: int):
        return self._post(pk, "review", lambda p: oversight.record_review(g.user, pk, p), "Review recorded.")

    @expose("/<int:pk>/grants", methods=["POST"])
    @has_access
    def grant_access(self, pk: int):
        return self._post(pk, "grant", lambda p: access.grant_access(g.user, pk, p), "Access granted.")

    @expose("/<int:pk>/break-glass", methods=["POST"])
    @has_access
    def break_glass(self, pk: int):
        return self._post(pk, "break_glass", lambda p: access.break_glass(g.user, pk, p),
                          "You can open this case for now. The officers on it can see that you did, and why.")

    @expose("/<int:pk>/grants/<int:user_id>/revoke", methods=["POST"])
    @has_access
    def revoke_access(self, pk: int, user_id: int):
        return self._post(pk, f"revoke:{user_id}", lambda p: access.revoke_access(g.user, pk, user_id, p),
                          "Access withdrawn.")


class BoardReportView(BaseView):
    """The Programme Board report for a period, with the Home Office table: figures only."""

    route_base = "/reports"
    class_permission_name = "BoardReport"
    method_permission_name = {"board": "read"}
    default_view = "board"

    @expose("/board")
    @has_access
    def board(self):
        try:
            start, end = reports.report_period_or_default(request.args)
        except InvalidData as exc:
            flash(" ".join(message for messages in exc.errors.values() for message in messages), "warning")
            start, end = reports.report_period_or_default({})
        report = reports.board_report(db.session, g.user, start, end)
        if request.args.get("format") in ("csv", "pdf"):
            made = reports.report_file(report, request.args["format"])
            return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                             download_name=made.filename)
        return self.render_template("board_report.html", report=report, chart=charts.bar_chart(report.by_type),
                                    suppressed=reports.suppresses_small_counts(g.user))


class OversightView(BaseView):
    """The Prevent Lead's dashboard and the access log across cases."""

    route_base = "/oversight"
    class_permission_name = "Case"
    method_permission_name = {"index": "review", "access": "read_access_log"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("oversight.html", board=oversight.dashboard(db.session, g.user),
                                    waited=oversight.waited, today=date.today())

    @expose("/access")
    @has_access
    def access(self):
        page = max(request.args.get("page", 0, type=int), 0)
        count, entries = oversight.access_log(db.session, g.user, user_id=request.args.get("user", type=int),
                                              outside_only=request.args.get("outside") == "yes", page=page)
        return self.render_template("access_log.html", entries=entries, count=count, page=page, page_size=50,
                                    people=case_workers(db.session), args=request.args)


class MyEmailView(BaseView):
    """What email this person receives, and whether non-urgent email comes as one daily digest."""

    route_base = "/my-email"
    class_permission_name = "Notifications"
    method_permission_name = {"show": "read", "update": "edit"}
    default_view = "show"

    @expose("/")
    @has_access
    def show(self):
        return self.render_template("my_email.html", receives=notify.what_user_receives(g.user),
                                    recent=outbox.sent_to(db.session, g.user),
                                    daily_digest=outbox.wants_digest(db.session, g.user))

    @expose("/", methods=["POST"])
    @has_access
    def update(self):
        chosen = preferences.set_daily_digest(g.user, {"daily_digest": request.form.get("daily_digest", "no")})
        flash("Non-urgent email will come as one daily digest." if chosen else "Email will come as it happens.",
              "success")
        return redirect(url_for("MyEmailView.show"))


class OutboxView(BaseView):
    """The Admin's view of email delivery: what failed (with its error, and a retry) and what went lately."""

    route_base = "/outbox"
    class_permission_name = "Outbox"
    method_permission_name = {"index": "read", "retry": "retry"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        failed, recent = outbox.failed_and_recent(db.session, g.user)
        return self.render_template("outbox.html", failed=failed, recent=recent,
                                    audit_head_problem=audit.head_file_problem(db.session))

    @expose("/<int:pk>/retry", methods=["POST"])
    @has_access
    def retry(self, pk: int):
        try:
            outbox.retry(g.user, pk)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash("The email is queued again.", "success")
        return redirect(url_for("OutboxView.index"))


class ReferenceDataInterface(SQLAInterface):
    """FAB's model interface with two mends: a failed save is said plainly (FAB flashes the database's own error,
    SQL and parameters included), and a checkbox may be left unticked (FAB requires every non-null column)."""

    SAVE_FAILED = "That could not be saved. An entry with the same name may exist already."

    def is_nullable(self, col_name: str) -> bool:
        return self.is_boolean(col_name) or super().is_nullable(col_name)

    def add(self, item, commit: bool = True) -> None:
        self._plainly(super().add, item, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._plainly(super().edit, item, commit)

    def delete(self, item, commit: bool = True) -> None:
        self._plainly(super().delete, item, commit)

    def _plainly(self, save, item, commit: bool) -> None:
        try:
            save(item, commit)
        except (SQLAlchemyError, DatabaseException):
            raise DatabaseException(self.SAVE_FAILED) from None


def enum_select(enum_cls, label: str) -> SelectField:
    """A required choice of an enum's values. (FAB's own field for enum columns crashes, 500, when none is chosen.)"""
    return SelectField(label, choices=[(member.value, member.value.replace("_", " ").capitalize())
                                       for member in enum_cls], coerce=enum_cls,
                       validators=[DataRequired(message="Choose one.")], widget=Select2Widget())


class IndicatorView(ModelView):
    """The provider's vulnerability table: the Prevent Lead can add more; entries are retired, never deleted."""

    datamodel = ReferenceDataInterface(Indicator)
    list_columns = ["kind", "label", "position", "active"]
    add_columns = edit_columns = ["kind", "label", "position", "active"]
    add_form_extra_fields = edit_form_extra_fields = {"kind": enum_select(IndicatorKind, "Kind")}
    base_order = ("kind", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    # No row or bulk actions: FAB's generic action routes would only answer an unknown action name with a crash (500).
    exclude_route_methods = {"action", "action_post"}


class ConcernTypeView(ModelView):
    """Home Office categories: an administrator can extend them; entries are retired, never deleted."""

    datamodel = ReferenceDataInterface(ConcernType)
    list_columns = ["label", "position", "active"]
    add_columns = edit_columns = ["label", "position", "active"]
    base_order = ("position", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    # No row or bulk actions: FAB's generic action routes would only answer an unknown action name with a crash (500).
    exclude_route_methods = {"action", "action_post"}


EMPLOYER_FIELDS = ("name", "address", "sector", "contact_name", "contact_email", "contact_phone", "director_id",
                   "active", "version")


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
            return self._render_form(None, payload, exc.errors)
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
            return self._render_form(employer, payload, exc.errors)
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
            draft=draft or {}, errors=errors or {}, message=message, methods=employers.METHODS,
            shared_items=employers.SHARED_ITEMS, attachment_kinds=employers.ATTACHMENT_KINDS,
            upload_types=files.allowed_types(), upload_max_mb=current_app.config["UPLOAD_MAX_BYTES"] / (1024 * 1024),
            interval_months=current_app.config["EMPLOYER_CONTACT_INTERVAL_MONTHS"],
            may={"edit": can(g.user, "can_edit", "Employer")},
        ), status_code

    def _post(self, pk: int, form_name: str, call, success: str, *list_fields: str):
        return submit(call, form_name, functools.partial(self._render_employer, pk), success,
                      url_for("EmployerView.show", pk=pk), *list_fields)

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
        return self._post(pk, f"attach:{communication_id}", call, "File attached.")

    @expose("/<int:pk>/attachments/<int:attachment_id>")
    @has_access
    def download(self, pk: int, attachment_id: int):
        return file_download(employers.attachment_file(db.session, g.user, pk, attachment_id))

    @expose("/<int:pk>/awareness-email", methods=["POST"])
    @has_access
    def send_awareness_email(self, pk: int):
        return self._post(pk, "awareness", lambda p: employers.send_awareness_email(g.user, pk),
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

    route_base = employers.ACK_PATH
    default_view = "confirm"

    def _refused(self, refusal: employers.AcknowledgementLinkRefused):
        return self.render_template("employer_acknowledgement.html", refusal=refusal), refusal.status_code

    @expose("/<token>", methods=["GET"])
    def confirm(self, token: str):
        try:
            communication = employers.acknowledgement_request(db.session, token)
        except employers.AcknowledgementLinkRefused as refusal:
            return self._refused(refusal)
        return self.render_template("employer_acknowledgement.html", communication=communication, token=token)

    @expose("/<token>", methods=["POST"])
    def acknowledge(self, token: str):
        try:
            communication = employers.acknowledge_by_link(token)
        except employers.AcknowledgementLinkRefused as refusal:
            return self._refused(refusal)
        return self.render_template("employer_acknowledgement.html", communication=communication, recorded=True)


class TrainingCourseView(ModelView):
    """Prevent training courses: the Prevent Lead can add more; courses are retired, never deleted."""

    datamodel = ReferenceDataInterface(TrainingCourse)
    list_columns = add_columns = edit_columns = ["name", "active"]
    base_order = ("id", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    # No row or bulk actions: FAB's generic action routes would only answer an unknown action name with a crash (500).
    exclude_route_methods = {"action", "action_post"}


def uploaded(name: str):
    """The file posted as `name`, or None when none was chosen (a browser then sends an empty part)."""
    upload = request.files.get(name)
    return upload if upload is not None and upload.filename else None


def back_to(default: str) -> str:
    """Where a form asks to return to (`next`): a page of this app only, never another site."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else default


def people_who_sign_in() -> list[User]:
    """Everyone active who signs in, for choosing a manager."""
    return db.session.scalars(sa.select(User).where(User.active.is_(True))
                              .order_by(User.first_name, User.last_name)).all()


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
                      "record", self._render_mine, "Recorded. An officer will verify it.", url_for("TrainingView.mine"))

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
            message=message, today=date.today(), may=self._may()), status_code

    @expose("/staff/")
    @has_access
    def staff(self):
        return self._render_staff()

    @expose("/staff/", methods=["POST"])
    @has_access
    def add_staff(self):
        return submit(lambda p: training.add_staff(g.user, p), "add", self._render_staff,
                      "Added to the staff list.", url_for("TrainingView.staff"))

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
                      url_for("TrainingView.staff_member", pk=pk))

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
            "training_import.html", report=report, kinds=training.IMPORT_KINDS, encodings=training.ENCODINGS,
            draft=draft or {}, errors=errors or {}, message=message,
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
            report = training.check_import(g.user, {**payload, "file": uploaded("file")})
        except InvalidData as exc:
            return self._render_import(draft=payload, errors=exc.errors, status_code=422)
        return self._render_import(report=report, draft=payload)

    @expose("/import/<int:upload_id>", methods=["POST"])
    @has_access
    def run_import(self, upload_id: int):
        payload = form_payload()
        report = training.run_import(g.user, upload_id, payload)
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


class RetentionView(BaseView):
    """The Prevent Lead's retention page: approve erasures, legal hold, and the subject access export."""

    route_base = "/retention"
    class_permission_name = "Retention"
    method_permission_name = {"index": "read", "approve": "approve", "hold": "legal_hold",
                              "staff_record": "link_staff", "access_export": "access_export"}
    default_view = "index"

    def _page(self, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
              status_code: int = 200):
        if message:
            flash(message, "warning")
        return self.render_template("retention.html", found=retention.overview(db.session, g.user),
                                    rules=retention.RULES, draft=draft or {}, errors=errors or {}), status_code

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    @expose("/approve", methods=["POST"])
    @has_access
    def approve(self):
        return submit(lambda p: retention.approve(g.user, p), "approve", self._page,
                      "Approved: the next retention run erases these records if they are still due.",
                      url_for("RetentionView.index"), "subject_ids")

    @expose("/hold", methods=["POST"])
    @has_access
    def hold(self):
        def call(payload):
            subject_id = retention.subject_of_case(db.session, g.user, payload.get("reference", ""))
            retention.set_legal_hold(g.user, subject_id, payload)
        return submit(call, "hold", self._page, "Legal hold updated.", url_for("RetentionView.index"))

    @expose("/staff-record", methods=["POST"])
    @has_access
    def staff_record(self):
        def call(payload):
            subject_id = retention.subject_of_case(db.session, g.user, payload.get("reference", ""))
            retention.link_staff_record(g.user, subject_id, payload)
        return submit(call, "staff", self._page, "Staff record linked.", url_for("RetentionView.index"))

    @expose("/access-export")
    @has_access
    def access_export(self):
        try:
            subject_id = retention.subject_of_case(db.session, g.user, request.args.get("reference", ""))
            made = retention.subject_access_export(g.user, subject_id, dict(request.args))
        except InvalidData as exc:
            return self._page(draft={"form": "export", **request.args}, errors=exc.errors,
                              message="Some fields need attention.", status_code=422)
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)


class RoleGrantView(BaseView):
    """Requests for the roles that open case data, for a second person to approve or decline (another Admin, or the
    Prevent Lead), and the latest changes to users: who, what and why."""

    route_base = "/role-grants"
    class_permission_name = "RoleGrant"
    method_permission_name = {"index": "read", "approve": "approve", "decline": "approve"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("role_grants.html", pending=accounts.pending_grants(db.session, g.user),
                                    changes=accounts.recent_changes(db.session, g.user), may_decide=accounts.may_decide)

    @expose("/<int:pk>/approve", methods=["POST"])
    @has_access
    def approve(self, pk: int):
        return self._decide(accounts.approve_grant, pk, "Approved: the role is given.")

    @expose("/<int:pk>/decline", methods=["POST"])
    @has_access
    def decline(self, pk: int):
        return self._decide(accounts.decline_grant, pk, "Declined: the role is not given.")

    @staticmethod
    def _decide(decide, pk: int, done: str):
        try:
            decide(g.user, pk, {"reason": request.form.get("reason")})
        except InvalidData:
            flash("Give the reason for your decision: it goes in the audit trail.", "warning")
        except (Conflict, accounts.AccountChangeRefused) as exc:
            flash(str(exc), "warning")
        else:
            flash(done, "success")
        return redirect(url_for("RoleGrantView.index"))


def register(appbuilder) -> None:
    appbuilder.add_view(ConcernView, "Raise a concern", href="/concerns/new", icon="fa-bullhorn")
    appbuilder.add_link("My concerns", href="/concerns/mine", icon="fa-list")
    appbuilder.add_view(CaseView, "Cases", icon="fa-folder-open")
    appbuilder.add_view(OversightView, "Oversight", icon="fa-eye")
    appbuilder.add_view(BoardReportView, "Board report", icon="fa-bar-chart")
    appbuilder.add_view(RetentionView, "Retention", icon="fa-archive")
    appbuilder.add_view(IndicatorView, "Indicators", category="Reference data", icon="fa-check-square")
    appbuilder.add_view(ConcernTypeView, "Types of concern", category="Reference data", icon="fa-tags")
    appbuilder.add_view(OutboxView, "Email outbox", icon="fa-envelope")
    appbuilder.add_view(MyEmailView, "My email", icon="fa-envelope-o")
    appbuilder.add_view(EmployerView, "Employers", icon="fa-building")
    appbuilder.add_view(CoverageView, "Employer coverage", icon="fa-pie-chart")
    appbuilder.add_view_no_menu(EmployerAcknowledgementView)
    appbuilder.add_view(TrainingView, "My training", href="/training/mine", icon="fa-graduation-cap")
    appbuilder.add_link("Staff training", href="/training/staff/", category="Training", icon="fa-users")
    appbuilder.add_view(ComplianceView, "Training compliance", category="Training", icon="fa-pie-chart")
    appbuilder.add_link("Import staff or training", href="/training/import", category="Training", icon="fa-upload")
    appbuilder.add_view(TrainingCourseView, "Training courses", category="Reference data", icon="fa-book")
    appbuilder.add_view(RoleGrantView, "Role grants", category="Security", icon="fa-user-plus")
    formats.register_filters(current_app)
    # Permissions reach templates as `may`, worked out by each view: no template calls `can`.
    current_app.jinja_env.globals.update(CaseStatus=CaseStatus, IndicatorKind=IndicatorKind)

