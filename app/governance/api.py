"""The governance API: the Board report, the access log, the audit trail, subject rights and retention."""
from __future__ import annotations

import dataclasses
import io

from flask import g, request, send_file
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.cases.presenters import (
    access_json,
)
from app.extensions import db
from app.governance import evidence_pack, oversight, reports, retention
from app.governance.schemas import APPROVE_ERASURE, LEGAL_HOLD, STAFF_RECORD
from app.kernel import audit_verify
from app.kernel.rest import BadQuery, PreventApi, answers, json_body, page_args, rison_arg, takes
from app.kernel.validation import parse_bool, parse_int


class ReportApi(PreventApi):
    resource_name = "report"
    class_permission_name = "BoardReport"
    openapi_spec_tag = "Reports"
    method_permission_name = {"board": "read"}

    @expose("/board", methods=["GET"])
    @protect()
    @answers
    def board(self):
        """The Programme Board report for a period (figures only; small counts suppressed for Governance).
        ---
        get:
          summary: Board report for a period
          parameters:
            - {name: from, in: query, required: true, schema: {type: string, format: date}}
            - {name: to, in: query, required: true, schema: {type: string, format: date}}
          responses:
            200: {description: the figures}
            422: {description: a bad or missing date}
        """
        start, end = reports.period(request.args)
        return self.response(200, result=dataclasses.asdict(reports.board_report(db.session, g.user, start, end)))


class EvidencePackApi(PreventApi):
    """The evidence pack of the provider's Prevent duty for a period (the Prevent Lead and Governance)."""

    resource_name = "report"
    class_permission_name = "EvidencePack"
    openapi_spec_tag = "Reports"
    method_permission_name = {"evidence_pack": "read"}

    @expose("/evidence_pack", methods=["GET"])
    @protect()
    @answers
    def evidence_pack(self):
        """The evidence pack for a period, as one PDF (the Prevent Lead and Governance).
        ---
        get:
          summary: "Evidence pack: the risk assessment, training and policies read, employer coverage, speakers,
            monitoring alerts, British values and the Board report's figures (small numbers withheld); audited"
          parameters:
            - {name: from, in: query, required: true, schema: {type: string, format: date}}
            - {name: to, in: query, required: true, schema: {type: string, format: date}}
          responses:
            200:
              description: the PDF
              content:
                application/pdf: {schema: {type: string, format: binary}}
            422: {description: a bad date or period}
        """
        made = evidence_pack.download(g.user, request.args.to_dict())
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)


class AccessLogApi(PreventApi):
    resource_name = "access_log"
    openapi_spec_tag = "Audit"
    method_permission_name = {"list_entries": "read_access_log"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_entries(self):
        """Every case opened or exported, newest first (Prevent Lead).
        ---
        get:
          summary: The access log across cases; rison q (user_id, outside_own_work, page, page_size)
          responses:
            200: {description: "count and result"}
        """
        q = rison_arg()
        page, page_size = page_args(q)
        try:
            user_id = parse_int(q["user_id"]) if "user_id" in q else None
            outside_only = parse_bool(q.get("outside_own_work", False))
        except ValueError:
            raise BadQuery("user_id is a whole number; outside_own_work is true or false.") from None
        count, entries = oversight.access_log(db.session, g.user, user_id=user_id, outside_only=outside_only,
                                              page=page, page_size=page_size)
        return self.response(200, count=count, result=[access_json(e) for e in entries])


class AuditApi(PreventApi):
    resource_name = "audit"
    class_permission_name = "Audit"
    openapi_spec_tag = "Audit"
    method_permission_name = {"verify": "verify"}

    @expose("/verify", methods=["GET"])
    @protect()
    @answers
    def verify(self):
        """Verify the audit chain (Prevent Lead).
        ---
        get:
          summary: Verify the whole audit chain
          responses:
            200: {description: "ok, events, head, first_bad_seq"}
        """
        return self.response(200, **audit_verify.verify(db.session).as_dict())


class SubjectRightsApi(PreventApi):
    """The Prevent Lead's decisions on one subject's records: legal hold, and the subject access export."""

    resource_name = "subject"
    class_permission_name = "Retention"
    openapi_spec_tag = "Retention"
    method_permission_name = {"legal_hold": "legal_hold", "access_export": "access_export",
                              "staff_record": "link_staff"}

    @expose("/<int:pk>/legal_hold", methods=["PUT"])
    @protect()
    @takes(LEGAL_HOLD)
    @answers
    def legal_hold(self, pk: int):
        """Put a subject's records on legal hold, or take them off it (Prevent Lead).
        ---
        put:
          summary: Legal hold (hold true|false, reason); nothing of a held subject is erased
          responses:
            200: {description: the subject's hold}
            409: {description: already so, or erased}
        """
        subject = retention.set_legal_hold(g.user, pk, json_body())
        return self.response(200, id=pk, result={"legal_hold": subject.legal_hold,
                                                 "legal_hold_reason": subject.legal_hold_reason})

    @expose("/<int:pk>/staff_record", methods=["PUT"])
    @protect()
    @takes(STAFF_RECORD)
    @answers
    def staff_record(self, pk: int):
        """Link a subject who is a member of staff to their staff record (Prevent Lead).
        ---
        put:
          summary: Staff record (staff = email or employee reference); its leaving date starts the retention period
          responses:
            200: {description: the staff record linked}
            409: {description: not a member of staff, linked already, or erased}
        """
        subject = retention.link_staff_record(g.user, pk, json_body())
        return self.response(200, id=pk, result={"staff_member_id": subject.staff_member_id})

    @expose("/<int:pk>/access_export", methods=["GET"])
    @protect()
    @answers
    def access_export(self, pk: int):
        """Everything held about one subject, for a subject access request (Prevent Lead).
        ---
        get:
          summary: Subject access export (format=json|pdf); audited
          parameters:
            - {name: format, in: query, required: true, schema: {type: string, enum: [json, pdf]}}
          responses:
            200:
              description: the file
              content:
                application/json: {schema: {type: object}}
                application/pdf: {schema: {type: string, format: binary}}
            422: {description: unknown format}
        """
        made = retention.subject_access_export(g.user, pk, dict(request.args))
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)


class RetentionApi(PreventApi):
    resource_name = "retention"
    class_permission_name = "Retention"
    openapi_spec_tag = "Retention"
    method_permission_name = {"overview": "read", "approve": "approve"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def overview(self):
        """Records due for erasure: awaiting approval, approved, and on legal hold (Prevent Lead). No names.
        ---
        get:
          summary: What `flask retention run` found due, by subject id, with case references and dates
          responses:
            200: {description: "awaiting, approved, held"}
        """
        found = retention.overview(db.session, g.user)
        return self.response(200, awaiting=[i.as_dict() for i in found["awaiting"]],
                             approved=[i.as_dict() for i in found["approved"]],
                             held=[{"subject_id": s.id, "references": refs} for s, refs in found["held"]])

    @expose("/approve", methods=["POST"])
    @protect()
    @takes(APPROVE_ERASURE)
    @answers
    def approve(self):
        """Approve the erasure of records awaiting approval (Prevent Lead); the next run erases them if still due.
        ---
        post:
          summary: Approve erasure (subject_ids, reason)
          responses:
            200: {description: the subjects approved}
            409: {description: one is not awaiting approval}
        """
        return self.response(200, approved=retention.approve(g.user, json_body()))
