"""The pages of cases: raising a concern, following one's own, the case list and the case page, and the
reference data a concern is coded with (indicators, types of concern). Each reads input, calls one use case, renders."""
from __future__ import annotations

import functools
import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access

from app.cases import access, actions, subjects
from app.cases import use_cases as cases
from app.cases.use_cases import CaseFilters
from app.extensions import db
from app.governance import oversight
from app.kernel import formats, idempotency, workflow
from app.kernel.errors import InvalidData
from app.kernel.pages import PAGE_SIZE, ReferenceDataInterface, enum_select, form_payload, submit
from app.kernel.security import CaseAccess, can, case_workers
from app.models import CaseStatus, ConcernType, Indicator, IndicatorKind


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


class IndicatorView(ModelView):
    """The provider's vulnerability table: the Prevent Lead can add more; entries are retired, never deleted."""

    datamodel = ReferenceDataInterface(Indicator)
    list_columns = ["kind", "label", "position", "active"]
    add_columns = edit_columns = ["kind", "label", "position", "active"]
    add_form_extra_fields = edit_form_extra_fields = {"kind": enum_select(IndicatorKind, "Kind")}
    # In words, in the list, the record and the search's choices: "Contributory factor", never contributory_factor.
    search_form_extra_fields = {"kind": enum_select(IndicatorKind, "Kind")}
    formatters_columns = {"kind": lambda value: formats.human(IndicatorKind(value))}
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
