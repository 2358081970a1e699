"""The governance pages: the Programme Board report, the Lead's oversight and retention."""
from __future__ import annotations

import io
from datetime import date

from flask import flash, g, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.cases.referrer_safety import RISK_WORDS
from app.extensions import db
from app.governance import evidence_pack, oversight, reports, retention
from app.kernel import charts, page_forms
from app.kernel.errors import InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import submit
from app.kernel.security import case_workers


class BoardReportView(BaseView):
    """The Programme Board report for a period, with the Home Office table: figures only."""

    route_base = "/reports"
    class_permission_name = "BoardReport"
    method_permission_name = {"board": "read"}
    default_view = "board"

    @expose("/board")
    @has_access
    def board(self):
        args, problems = page_forms.for_use_case(request.args.to_dict(), dates=("from", "to"))  # UK order, or ISO
        try:
            start, end = reports.report_period_or_default(args)
        except InvalidData as exc:
            worded = page_forms.specific(exc.errors, {"from": Words(date="the start of the period"),
                                                      "to": Words(date="the end of the period")}, problems)
            flash(" ".join(message for messages in worded.values() for message in messages), "warning")
            start, end = reports.report_period_or_default({})
        report = reports.board_report(db.session, g.user, start, end)
        if request.args.get("format") in ("csv", "pdf"):
            made = reports.report_file(report, request.args["format"])
            return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                             download_name=made.filename)
        return self.render_template("board_report.html", report=report,
                                    chart=charts.bar_chart(reports.chart_values(report)),
                                    suppressed=reports.suppresses_small_counts(g.user))


class EvidencePackView(BaseView):
    """The evidence pack: a period, then one PDF of the whole Prevent duty (the Prevent Lead, Governance)."""

    route_base = "/reports/evidence-pack"
    class_permission_name = "EvidencePack"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        if "download" not in request.args:
            start, end = reports.report_period_or_default({})
            return self.render_template("evidence_pack.html", values={}, errors={},
                                        start=start, end=end, sections=[title for title, _ in evidence_pack.SECTIONS])
        args, problems = page_forms.for_use_case(request.args.to_dict(), dates=("from", "to"))
        try:
            made = evidence_pack.download(g.user, args)
        except InvalidData as exc:
            errors = page_forms.specific(exc.errors, {"from": Words(date="the start of the period"),
                                                      "to": Words(date="the end of the period")}, problems)
            start, end = reports.report_period_or_default({})
            return self.render_template("evidence_pack.html", values=request.args, errors=errors, start=start,
                                        end=end, sections=[title for title, _ in evidence_pack.SECTIONS]), 422
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)


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
                                    waited=oversight.waited, today=date.today(), risk_words=RISK_WORDS)

    @expose("/access")
    @has_access
    def access(self):
        page = max(request.args.get("page", 0, type=int), 0)
        count, entries = oversight.access_log(db.session, g.user, user_id=request.args.get("user", type=int),
                                              outside_only=request.args.get("outside") == "yes", page=page)
        return self.render_template("access_log.html", entries=entries, count=count, page=page, page_size=50,
                                    people=case_workers(db.session), args=request.args)


# The retention page's forms: their words for the use cases' messages, in the order of each form.
RETENTION_WORDS = {
    "approve": {"subject_ids": Words(), "reason": Words(required="Enter why these records may be erased")},
    "hold": {"reference": Words(required="Enter the case reference"), "hold": Words(),
             "reason": Words(required="Enter the reason for the change to the legal hold")},
    "staff": {"reference": Words(required="Enter the case reference"),
              "staff": Words(required="Enter their email or employee reference")},
    "export": {"reference": Words(required="Enter the case reference"), "format": Words()},
}


class RetentionView(BaseView):
    """The Prevent Lead's retention page: approve erasures, legal hold, and the subject access export."""

    route_base = "/retention"
    class_permission_name = "Retention"
    method_permission_name = {"index": "read", "approve": "approve", "hold": "legal_hold",
                              "staff_record": "link_staff", "access_export": "access_export"}
    default_view = "index"

    def _page(self, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
              status_code: int = 200):
        if message and not errors:
            flash(message, "warning")
        return self.render_template("retention.html", found=retention.overview(db.session, g.user),
                                    rules=retention.RULES, draft=draft or {}, errors=errors or {},
                                    message=message), status_code

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    @expose("/approve", methods=["POST"])
    @has_access
    def approve(self):
        return submit(lambda p: retention.approve(g.user, p), "approve", self._page,
                      "Approved: the next retention run erases these records if they are still due.",
                      url_for("RetentionView.index"), "subject_ids", words=RETENTION_WORDS["approve"])

    @expose("/hold", methods=["POST"])
    @has_access
    def hold(self):
        def call(payload):
            subject_id = retention.subject_of_case(db.session, g.user, payload.get("reference", ""))
            retention.set_legal_hold(g.user, subject_id, payload)
        return submit(call, "hold", self._page, "Legal hold updated.", url_for("RetentionView.index"),
                      words=RETENTION_WORDS["hold"])

    @expose("/staff-record", methods=["POST"])
    @has_access
    def staff_record(self):
        def call(payload):
            subject_id = retention.subject_of_case(db.session, g.user, payload.get("reference", ""))
            retention.link_staff_record(g.user, subject_id, payload)
        return submit(call, "staff", self._page, "Staff record linked.", url_for("RetentionView.index"),
                      words=RETENTION_WORDS["staff"])

    @expose("/access-export")
    @has_access
    def access_export(self):
        try:
            subject_id = retention.subject_of_case(db.session, g.user, request.args.get("reference", ""))
            made = retention.subject_access_export(g.user, subject_id, dict(request.args))
        except InvalidData as exc:
            return self._page(draft={"form": "export", **request.args},
                              errors=page_forms.specific(exc.errors, RETENTION_WORDS["export"]),
                              message="Some fields need attention.", status_code=422)
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)
