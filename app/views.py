"""Pages. Each reads input, calls one service, renders. No business rules here: they live in the services,
app/workflow.py and app/security.py."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, IndexView, ModelView, expose, has_access
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.exc import SQLAlchemyError

from app import notify, outbox, workflow
from app.errors import Conflict, InvalidData
from app.extensions import db
from app.models import CaseStatus, ConcernType, Indicator, IndicatorKind
from app.security import CaseAccess, can, case_workers
from app.services import access, actions, cases, preferences, subjects
from app.services.cases import CaseFilters

UK = ZoneInfo("Europe/London")
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


class HomeView(IndexView):
    index_template = "home.html"


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
        if request.method == "POST":
            payload = form_payload("indicator_ids")
            payload["immediate_danger"] = "immediate_danger" in request.form
            try:
                case = cases.raise_concern(g.user, payload, naive_zone=UK)
            except InvalidData as exc:
                errors = exc.errors
            else:
                return redirect(url_for("ConcernView.raised", pk=case.id))
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
            can_pick_subject=can(g.user, "can_read", "Subject"),
        ), (422 if errors else 200)

    @expose("/<int:pk>/raised")
    @has_access
    def raised(self, pk: int):
        case = cases.own_concern(db.session, g.user, pk)
        return self.render_template("concern_raised.html", case=case,
                                    contacts=current_app.config["SAFEGUARDING_CONTACTS"])

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
        "grant_access": "grant_access", "revoke_access": "grant_access",
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
                                    args=args)

    def _render_case(self, pk: int, *, draft: Optional[dict] = None, errors: Optional[dict] = None,
                     message: Optional[str] = None, status_code: int = 200):
        view = cases.get_case(db.session, g.user, pk)
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
        )
        if case.restricted and can(g.user, "can_grant_access"):
            context.update(granted=access.granted_users(db.session, pk),
                           grant_candidates=access.grant_candidates(db.session, case))
        return self.render_template("case_page.html", **context), status_code

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render_case(pk)

    def _post(self, pk: int, form_name: str, call, success: str, *list_fields: str):
        """Runs one service with the posted form; on a refusal, shows the case again with what was typed."""
        payload = form_payload(*list_fields)
        try:
            call(payload)
        except InvalidData as exc:
            return self._render_case(pk, draft={"form": form_name, **payload}, errors=exc.errors,
                                     message="Some fields need attention: nothing was saved yet.", status_code=422)
        except Conflict as exc:
            return self._render_case(pk, draft={"form": form_name, **payload}, message=str(exc), status_code=409)
        flash(success, "success")
        return redirect(url_for("CaseView.show", pk=pk))

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

    @expose("/<int:pk>/grants", methods=["POST"])
    @has_access
    def grant_access(self, pk: int):
        return self._post(pk, "grant", lambda p: access.grant_access(g.user, pk, p), "Access granted.")

    @expose("/<int:pk>/grants/<int:user_id>/revoke", methods=["POST"])
    @has_access
    def revoke_access(self, pk: int, user_id: int):
        return self._post(pk, f"revoke:{user_id}", lambda p: access.revoke_access(g.user, pk, user_id, p),
                          "Access withdrawn.")


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
        return self.render_template("outbox.html", failed=failed, recent=recent)

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


class IndicatorView(ModelView):
    """The provider's vulnerability table: the Prevent Lead can add more; entries are retired, never deleted."""

    datamodel = ReferenceDataInterface(Indicator)
    list_columns = ["kind", "label", "position", "active"]
    add_columns = edit_columns = ["kind", "label", "position", "active"]
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


def local_time(value, fmt: str = "%d %b %Y %H:%M") -> str:
    return "" if value is None else value.astimezone(UK).strftime(fmt)


def register(appbuilder) -> None:
    appbuilder.add_view(ConcernView, "Raise a concern", href="/concerns/new", icon="fa-bullhorn")
    appbuilder.add_link("My concerns", href="/concerns/mine", icon="fa-list")
    appbuilder.add_view(CaseView, "Cases", icon="fa-folder-open")
    appbuilder.add_view(IndicatorView, "Indicators", category="Reference data", icon="fa-check-square")
    appbuilder.add_view(ConcernTypeView, "Types of concern", category="Reference data", icon="fa-tags")
    appbuilder.add_view(OutboxView, "Email outbox", icon="fa-envelope")
    appbuilder.add_view(MyEmailView, "My email", icon="fa-envelope-o")
    current_app.jinja_env.filters["local"] = local_time
    current_app.jinja_env.globals.update(can=can, CaseStatus=CaseStatus, IndicatorKind=IndicatorKind)

