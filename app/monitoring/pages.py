"""Monitoring pages: the officers' queue of alerts and an alert's page (raise a concern from it, or dismiss it), and
the Admin's page of monitoring sources (add one and see its key once, revoke one)."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.cases import subjects
from app.cases.pages import CONCERN_WORDS
from app.extensions import db
from app.kernel import formats, page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import PAGE_SIZE, form_payload
from app.kernel.security import can
from app.monitoring import use_cases as monitoring
from app.monitoring.models import AlertState

RAISE_WORDS = {
    **{name: words for name, words in CONCERN_WORDS.items() if name.startswith("subject")},
    "note": Words(),
}
DISMISS_WORDS = {"reason": Words(required="Enter why this alert needs no concern")}
SOURCE_WORDS = {"name": Words(required="Enter the name of the monitoring system, such as Web filter")}


class MonitoringAlertView(BaseView):
    """Alerts from web filtering and monitoring systems, for officers and the Prevent Lead to triage."""

    route_base = "/monitoring"
    class_permission_name = "MonitoringAlert"
    method_permission_name = {"index": "read", "show": "read", "raise_concern": "triage", "dismiss": "triage"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        try:
            page = min(max(int(request.args.get("page", 0)), 0), 100_000)  # past the last page: an empty one
        except ValueError:
            page = 0
        waiting_count, waiting = monitoring.list_alerts(db.session, g.user, state=AlertState.awaiting_triage,
                                                        page=page, page_size=PAGE_SIZE)
        _, recent = monitoring.list_alerts(db.session, g.user, page=0, page_size=PAGE_SIZE)
        return self.render_template("monitoring_queue.html", waiting=waiting, waiting_count=waiting_count,
                                    page=page, page_size=PAGE_SIZE,
                                    recent=[a for a in recent if a.state != AlertState.awaiting_triage])

    def _render(self, pk: int, *, draft: dict[str, Any] | None = None, errors: dict | None = None,
                message: str | None = None, status_code: int | None = None):
        alert = monitoring.get_alert(db.session, g.user, pk)
        search = request.args.get("find", "").strip()
        found = subjects.search_subjects(db.session, g.user, search) \
            if search and can(g.user, "can_read", "Subject") else []
        errors = errors or {}
        return self.render_template(
            "monitoring_alert.html", alert=alert, draft=draft or {}, errors=errors, message=message, found=found,
            search=search, may={"triage": can(g.user, "can_triage", "MonitoringAlert"),
                                "find": can(g.user, "can_read", "Subject")},
        ), status_code or (422 if errors else 200)

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render(pk)

    @expose("/<int:pk>/raise", methods=["POST"])
    @has_access
    def raise_concern(self, pk: int):
        typed = form_payload()
        payload, problems = page_forms.for_use_case(typed)
        try:
            case = monitoring.raise_concern_from(g.user, pk, payload, naive_zone=formats.UK)
        except InvalidData as exc:
            return self._render(pk, draft={"form": "raise", **typed}, message="Nothing was saved yet.",
                                errors=page_forms.specific(exc.errors, RAISE_WORDS, problems))
        except Conflict as exc:
            return self._render(pk, message=str(exc), status_code=409)
        flash(f"Concern {case.reference} raised from the alert.", "success")
        return redirect(url_for("CaseView.show", pk=case.id))

    @expose("/<int:pk>/dismiss", methods=["POST"])
    @has_access
    def dismiss(self, pk: int):
        typed = form_payload()
        try:
            monitoring.dismiss(g.user, pk, typed)
        except InvalidData as exc:
            return self._render(pk, draft={"form": "dismiss", **typed}, message="Nothing was saved yet.",
                                errors=page_forms.specific(exc.errors, DISMISS_WORDS))
        except Conflict as exc:
            return self._render(pk, message=str(exc), status_code=409)
        flash("Alert dismissed.", "success")
        return redirect(url_for("MonitoringAlertView.index"))


class MonitoringSourceView(BaseView):
    """The Admin's list of the systems allowed to send alerts, each with its own key."""

    route_base = "/monitoring/sources"
    class_permission_name = "MonitoringSource"
    method_permission_name = {"index": "manage", "add": "manage", "revoke": "manage"}
    default_view = "index"

    def _render(self, *, values: dict | None = None, errors: dict | None = None, new_key: str | None = None,
                new_source: str | None = None, status_code: int = 200):
        response = self.render_template(
            "monitoring_sources.html", sources=monitoring.list_sources(db.session, g.user), values=values or {},
            errors=errors or {}, new_key=new_key, new_source=new_source, header=monitoring.KEY_HEADER)
        return response, status_code, {"Cache-Control": "no-store"}

    @expose("/")
    @has_access
    def index(self):
        return self._render()

    @expose("/new", methods=["POST"])
    @has_access
    def add(self):
        typed = form_payload()
        try:
            source, key = monitoring.add_source(g.user, typed)
        except InvalidData as exc:
            return self._render(values=typed, errors=page_forms.specific(exc.errors, SOURCE_WORDS), status_code=422)
        # Shown on this answer only (not kept in the session for a redirect): the key is nowhere else.
        return self._render(new_key=key, new_source=source.name)

    @expose("/<int:pk>/revoke", methods=["POST"])
    @has_access
    def revoke(self, pk: int):
        try:
            source = monitoring.revoke_source(g.user, source_id=pk)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash(f"{source.name} is revoked: its key no longer works.", "success")
        return redirect(url_for("MonitoringSourceView.index"))
