"""The REST API (`/api/v1`): JSON in, one service call, JSON out. Rules live in the services and app/security.py."""
from __future__ import annotations

import dataclasses
import functools
import io
import logging
import re
from datetime import date
from typing import Any, Callable

import prison
from flask import g, request, send_file
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import protect
from werkzeug.exceptions import BadRequest

from app import audit
from app.errors import Conflict, DomainError, InvalidData
from app.extensions import db
from app.models import CaseStatus, ConcernType, Indicator
from app.presenters import (
    access_json, action_json, apprentice_json, audit_json, break_glass_json, case_json, communication_json,
    compliance_json, coverage_json, employer_json, entry_json, subject_json, training_record_json,
)
from app.services import access, actions, cases, employers, oversight, reports, retention, subjects, training
from app.services.cases import CaseFilters
from app.validation import parse_bool, parse_int, text_parser

log = logging.getLogger(__name__)


class BadQuery(Exception):
    pass


def json_body() -> Any:
    """The request's JSON; BadRequest (400) when it is not JSON at all."""
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest("The request body must be JSON.")
    return payload


def _parse_rison(raw: str) -> dict:
    if len(raw) > 2000:
        raise BadQuery("The q argument is too long.")
    try:
        value = prison.loads(raw)
    except (Exception, RecursionError):
        raise BadQuery("The q argument is not valid rison.") from None
    if not isinstance(value, dict):
        raise BadQuery("The q argument must be a rison object, such as (page:0,page_size:25).")
    return value


def rison_arg() -> dict:
    """The rison `q` argument, parsed defensively: `q=((` and other malformed input get 400, never 500."""
    raw = request.args.get("q")
    return _parse_rison(raw) if raw else {}


def guard_rison_arguments(app) -> None:
    """Flask-AppBuilder's own APIs parse `q` too, and crash on `q=((`: refuse malformed `q` before any API runs."""

    @app.before_request
    def refuse_malformed_q():
        if request.path.startswith("/api/") and request.args.get("q"):
            try:
                _parse_rison(request.args["q"])
            except BadQuery as exc:
                return {"message": str(exc)}, 400
        return None


def answers(view: Callable) -> Callable:
    """Turns domain errors into the contract's answers; anything unexpected is logged and answered plainly."""

    @functools.wraps(view)
    def wrapped(self: BaseApi, *args, **kwargs):
        try:
            return view(self, *args, **kwargs)
        except InvalidData as exc:
            return self.response(422, message=exc.errors)
        except Conflict as exc:
            return self.response(409, message=str(exc), status=exc.status)
        except DomainError as exc:
            return self.response(exc.status_code, message=str(exc))
        except (BadRequest, BadQuery) as exc:
            return self.response(400, message=getattr(exc, "description", None) or str(exc))
        except Exception:
            log.exception("API error")
            db.session.rollback()
            return self.response(500, message="Something went wrong on our side. Nothing was changed.")

    return wrapped


class PreventApi(BaseApi):
    # Tokens only: a browser cookie must not authorise API writes, which are exempt from CSRF checks.
    allow_browser_login = False
    class_permission_name = "Case"

    def add_api_spec(self, api_spec) -> None:
        """FAB describes a custom route's path without its `{pk}`-style parameters: declare them (all our ids are
        whole numbers), so that clients and API fuzzers can call every operation the document lists."""
        super().add_api_spec(api_spec)
        for path, operations in api_spec._paths.items():
            names = re.findall(r"{(\w+)}", path)
            for operation in operations.values():
                if isinstance(operation, dict) and names:
                    declared = {p.get("name") for p in operation.setdefault("parameters", []) if isinstance(p, dict)}
                    operation["parameters"] += [{"name": name, "in": "path", "required": True,
                                                 "schema": {"type": "integer"}} for name in names if name not in declared]


class CaseApi(PreventApi):
    resource_name = "case"
    openapi_spec_tag = "Cases"
    method_permission_name = {
        "list_cases": "read", "get_case": "read", "raise_concern": "raise", "take_event": "transition",
        "immediate_risk": "record_risk", "get_chronology": "read_all", "add_action": "manage_actions",
        "add_note": "transition", "get_audit": "read_audit", "grant_access": "grant_access",
        "revoke_access": "grant_access", "get_access_log": "read_access_log",
        "export_chronology": "export", "break_glass": "break_glass",
    }

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_cases(self):
        """Cases this user may see, most urgent first.
        ---
        get:
          summary: List cases (rison q with filters, page and page_size)
          responses:
            200: {description: "count, ids and result"}
            400: {description: malformed q}
            403: {description: role has no case access}
        """
        q = rison_arg()
        filters, page, page_size = _case_query(q)
        count, rows = cases.list_cases(db.session, g.user, filters, page=page, page_size=page_size)
        results = [case_json(row.case, g.user, flags=row) for row in rows]
        return self.response(200, count=count, ids=[row.case.id for row in rows], result=results)

    @expose("/", methods=["POST"])
    @protect()
    @answers
    def raise_concern(self):
        """Raise a concern.
        ---
        post:
          summary: Raise a concern (any employee)
          responses:
            201: {description: the new case}
            422: {description: missing or invalid fields}
        """
        case = cases.raise_concern(g.user, json_body())
        return self.response(201, id=case.id, result=case_json(case, g.user))

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @answers
    def get_case(self, pk: int):
        """A case, as much of it as this user may see.
        ---
        get:
          summary: One case
          responses:
            200: {description: the case}
            404: {description: no such case, or not visible to this user}
        """
        oversight.record_access(g.user, pk, "api", "case")
        view = cases.get_case(db.session, g.user, pk)
        return self.response(200, id=pk, result=case_json(view.case, g.user, access=view.access))

    @expose("/<int:pk>/transition", methods=["POST"])
    @protect()
    @answers
    def take_event(self, pk: int):
        """Take a workflow event.
        ---
        post:
          summary: Take a workflow event (event, reason, version, and the event's data)
          responses:
            200: {description: the case after the event}
            409: {description: not allowed from the current state, or stale version}
            422: {description: reason or data missing}
        """
        case = cases.transition(g.user, pk, json_body())
        return self.response(200, id=pk, result=case_json(case, g.user))

    @expose("/<int:pk>/immediate_risk", methods=["POST"])
    @protect()
    @answers
    def immediate_risk(self, pk: int):
        """Record that someone is in immediate danger.
        ---
        post:
          summary: Record immediate risk (police_called, police_incident_number, note); marks the case urgent
          responses:
            200: {description: the case}
        """
        case = cases.record_immediate_risk(g.user, pk, json_body())
        return self.response(200, id=pk, result=case_json(case, g.user))

    @expose("/<int:pk>/chronology", methods=["GET"])
    @protect()
    @answers
    def get_chronology(self, pk: int):
        """Everything on a case in time order.
        ---
        get:
          summary: The case chronology, oldest first
          responses:
            200: {description: entries}
        """
        items = cases.chronology(db.session, g.user, pk)
        oversight.record_access(g.user, pk, "api", "chronology")
        return self.response(200, result=[entry_json(item) for item in items])

    @expose("/<int:pk>/actions", methods=["POST"])
    @protect()
    @answers
    def add_action(self, pk: int):
        """Add an action.
        ---
        post:
          summary: Add an action (title, owner_id, due_date)
          responses:
            201: {description: the action}
        """
        action = actions.add_action(g.user, pk, json_body())
        return self.response(201, id=action.id, result=action_json(action))

    @expose("/<int:pk>/notes", methods=["POST"])
    @protect()
    @answers
    def add_note(self, pk: int):
        """Record information gathered, advice sought, or a note.
        ---
        post:
          summary: Add a note (kind, text, source)
          responses:
            201: {description: the chronology entry}
        """
        entry = cases.add_note(g.user, pk, json_body())
        return self.response(201, id=entry.id, result=entry_json(cases.ChronologyItem.from_entry(entry)))

    @expose("/<int:pk>/audit", methods=["GET"])
    @protect()
    @answers
    def get_audit(self, pk: int):
        """The case's audit trail (Prevent Lead).
        ---
        get:
          summary: Audit events for this case, in order
          responses:
            200: {description: events}
        """
        events = cases.audit_trail(db.session, g.user, pk)
        oversight.record_access(g.user, pk, "api", "audit")
        return self.response(200, result=[audit_json(ev) for ev in events])

    @expose("/<int:pk>/export", methods=["GET"])
    @protect()
    @answers
    def export_chronology(self, pk: int):
        """The case's chronology as a file.
        ---
        get:
          summary: Export the chronology (format=pdf|csv, redact_staff=true|false)
          responses:
            200: {description: the file}
            422: {description: unknown format}
        """
        made = oversight.export_chronology(g.user, pk, dict(request.args))
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)

    @expose("/<int:pk>/access_log", methods=["GET"])
    @protect()
    @answers
    def get_access_log(self, pk: int):
        """Who has opened or exported this case (Prevent Lead).
        ---
        get:
          summary: The case's access log, newest first
          responses:
            200: {description: entries}
        """
        return self.response(200, result=[access_json(e) for e in oversight.who_has_seen(db.session, g.user, pk)])

    @expose("/<int:pk>/grants", methods=["POST"])
    @protect()
    @answers
    def grant_access(self, pk: int):
        """Grant an officer access to a restricted case (Prevent Lead).
        ---
        post:
          summary: Grant access (user_id, reason)
          responses:
            201: {description: the grant}
            409: {description: the case is not restricted, or access was granted already}
        """
        grant = access.grant_access(g.user, pk, json_body())
        return self.response(201, result={"case_id": grant.case_id, "user_id": grant.user_id,
                                          "granted_at": grant.granted_at.isoformat()})

    @expose("/<int:pk>/grants/<int:user_id>", methods=["DELETE"])
    @protect()
    @answers
    def revoke_access(self, pk: int, user_id: int):
        """Withdraw an officer's access to a restricted case (Prevent Lead).
        ---
        delete:
          summary: Withdraw access (reason in the JSON body)
          responses:
            200: {description: withdrawn}
        """
        access.revoke_access(g.user, pk, user_id, json_body())
        return self.response(200, message="Access withdrawn.")


    @expose("/<int:pk>/break_glass", methods=["POST"])
    @protect()
    @answers
    def break_glass(self, pk: int):
        """Open a restricted case outside one's own access, saying why (Prevent Lead); shown to its officers.
        ---
        post:
          summary: Break glass (reason) for BREAK_GLASS_HOURS
          responses:
            201: {description: "access until expires_at"}
            404: {description: no such case}
            409: {description: the Lead can open the case already}
            422: {description: the reason is missing or too long}
        """
        opened = access.break_glass(g.user, pk, json_body())
        return self.response(201, result=break_glass_json(opened))


def _case_query(q: dict) -> tuple[CaseFilters, int, int]:
    filters = CaseFilters()
    parsers: dict[str, Callable[[Any], Any]] = {
        "status": CaseStatus, "concern_type_id": parse_int, "urgent": parse_bool, "overdue": parse_bool,
        "action_owner_id": parse_int, "subject_id": parse_int, "search": text_parser(200), "stalled": parse_bool,
    }
    raw_filters = q.get("filters", [])
    if not isinstance(raw_filters, list):
        raise BadQuery("filters must be a list of (col:...,opr:eq,value:...).")
    for item in raw_filters:
        if not isinstance(item, dict) or item.get("col") not in parsers or item.get("opr", "eq") != "eq":
            raise BadQuery("Each filter is (col:<" + "|".join(parsers) + ">,opr:eq,value:...).")
        try:
            setattr(filters, item["col"], parsers[item["col"]](item.get("value")))
        except (ValueError, TypeError):
            raise BadQuery(f"Bad value for filter {item['col']}.") from None
    page, page_size = page_args(q)
    return filters, page, page_size


def page_args(q: dict) -> tuple[int, int]:
    """`page` (0 or more) and `page_size` (1 to 100, default 25) from a rison q."""
    try:
        page = parse_int(q.get("page", 0))
        page_size = parse_int(q.get("page_size", 25))
    except ValueError:
        raise BadQuery("page and page_size must be whole numbers.") from None
    if page < 0 or not 1 <= page_size <= 100:
        raise BadQuery("page must be 0 or more and page_size between 1 and 100.")
    return page, page_size


class ActionApi(PreventApi):
    resource_name = "action"
    openapi_spec_tag = "Actions"
    method_permission_name = {"update_action": "manage_actions"}

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @answers
    def update_action(self, pk: int):
        """Complete or cancel an action.
        ---
        put:
          summary: Update an action (status done|cancelled, completion_note)
          responses:
            200: {description: the action}
        """
        return self.response(200, id=pk, result=action_json(actions.update_action(g.user, pk, json_body())))


class SubjectApi(PreventApi):
    resource_name = "subject"
    class_permission_name = "Subject"
    openapi_spec_tag = "Subjects"
    method_permission_name = {"create": "create", "search": "read", "get_subject": "read"}

    @expose("/", methods=["POST"])
    @protect()
    @answers
    def create(self):
        """Record a subject.
        ---
        post:
          summary: Create a subject (full_name, subject_type, date_of_birth, programme, employer_id, learner_ref)
          responses:
            201: {description: the subject}
        """
        subject = subjects.create_subject(g.user, json_body())
        return self.response(201, id=subject.id, result=subject_json(subject))

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def search(self):
        """Find subjects by name or learner reference (officers).
        ---
        get:
          summary: Search subjects, rison q (search:'text')
          responses:
            200: {description: matching subjects}
        """
        text = rison_arg().get("search", "")
        if not isinstance(text, str):
            raise BadQuery("search must be text.")
        found = subjects.search_subjects(db.session, g.user, text)
        return self.response(200, count=len(found), ids=[s.id for s in found], result=[subject_json(s) for s in found])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @answers
    def get_subject(self, pk: int):
        """One subject (officers).
        ---
        get:
          summary: One subject
          responses:
            200: {description: the subject}
        """
        return self.response(200, id=pk, result=subject_json(subjects.get_subject(db.session, g.user, pk)))


class ReferenceApi(PreventApi):
    resource_name = "reference"
    class_permission_name = "Reference"
    openapi_spec_tag = "Reference data"
    method_permission_name = {"indicators": "read", "concern_types": "read"}

    @expose("/indicators", methods=["GET"])
    @protect()
    @answers
    def indicators(self):
        """The provider's table of contributory factors, vulnerabilities and indicators.
        ---
        get:
          summary: Indicators offered on the concern form
          responses:
            200: {description: indicators}
        """
        rows = db.session.scalars(db.select(Indicator).where(Indicator.active.is_(True))
                                  .order_by(Indicator.kind, Indicator.position)).all()
        return self.response(200, result=[{"id": i.id, "kind": i.kind.value, "label": i.label} for i in rows])

    @expose("/concern_types", methods=["GET"])
    @protect()
    @answers
    def concern_types(self):
        """Types of concern (Home Office categories).
        ---
        get:
          summary: Types of concern
          responses:
            200: {description: types}
        """
        rows = db.session.scalars(db.select(ConcernType).where(ConcernType.active.is_(True))
                                  .order_by(ConcernType.position)).all()
        return self.response(200, result=[{"id": t.id, "label": t.label} for t in rows])


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
          summary: Board report (from=YYYY-MM-DD, to=YYYY-MM-DD)
          responses:
            200: {description: the figures}
            422: {description: a bad or missing date}
        """
        start, end = reports.period(request.args)
        return self.response(200, result=dataclasses.asdict(reports.board_report(db.session, g.user, start, end)))


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
        return self.response(200, **audit.verify(db.session).as_dict())


class EmployerApi(PreventApi):
    resource_name = "employer"
    class_permission_name = "Employer"
    openapi_spec_tag = "Employers"
    method_permission_name = {
        "list_employers": "read", "create_employer": "create", "get_employer": "read", "update_employer": "edit",
        "list_communications": "read", "log_communication": "edit",
    }

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_employers(self):
        """Employers this user keeps (the Prevent Lead: all), active first.
        ---
        get:
          summary: List employers; rison q (active, page, page_size)
          responses:
            200: {description: "count, ids and result"}
            400: {description: malformed q}
        """
        q = rison_arg()
        page, page_size = page_args(q)
        try:
            active = parse_bool(q["active"]) if "active" in q else None
        except ValueError:
            raise BadQuery("active is true or false.") from None
        count, rows = employers.list_employers(db.session, g.user, active=active, page=page, page_size=page_size)
        today = date.today()
        return self.response(200, count=count, ids=[employer.id for employer, _ in rows],
                             result=[employer_json(employer, standing, today) for employer, standing in rows])

    @expose("/", methods=["POST"])
    @protect()
    @answers
    def create_employer(self):
        """Record an employer.
        ---
        post:
          summary: Create an employer (name, address, sector, contact_name, contact_email, contact_phone, active,
            director_id; a Programme Director keeps their own)
          responses:
            201: {description: the employer}
            422: {description: missing or invalid fields}
        """
        employer = employers.create_employer(g.user, json_body())
        return self._one(employer.id, 201)

    def _one(self, pk: int, status: int = 200):
        employer, standing = employers.get_employer(db.session, g.user, pk)
        result = employer_json(employer, standing, date.today())
        result["apprentices"] = [apprentice_json(s) for s in employers.apprentices(db.session, g.user, employer)]
        return self.response(status, id=pk, result=result)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @answers
    def get_employer(self, pk: int):
        """One employer, with the apprentices placed there (names and programmes only).
        ---
        get:
          summary: One employer
          responses:
            200: {description: the employer}
            404: {description: no such employer, or not one this user keeps}
        """
        return self._one(pk)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @answers
    def update_employer(self, pk: int):
        """Change an employer's details.
        ---
        put:
          summary: Update the fields sent (as for create), with version
          responses:
            200: {description: the employer}
            409: {description: the employer changed since version}
            422: {description: invalid fields}
        """
        employers.update_employer(g.user, pk, json_body())
        return self._one(pk)

    @expose("/<int:pk>/communications", methods=["GET"])
    @protect()
    @answers
    def list_communications(self, pk: int):
        """The employer's communications log, latest first.
        ---
        get:
          summary: Communications with the employer about the Prevent duty
          responses:
            200: {description: communications}
        """
        rows = employers.communications(db.session, g.user, pk)
        return self.response(200, count=len(rows), result=[communication_json(c) for c in rows])

    @expose("/<int:pk>/communications", methods=["POST"])
    @protect()
    @answers
    def log_communication(self, pk: int):
        """Log a communication.
        ---
        post:
          summary: Log a communication (occurred_on, method, shared [policy|briefing|contacts|other], summary,
            acknowledged_on, acknowledged_by, next_contact_due; by default 12 months on)
          responses:
            201: {description: the communication}
            422: {description: missing or invalid fields}
        """
        communication = employers.log_communication(g.user, pk, json_body())
        return self.response(201, id=communication.id, result=communication_json(communication))


class CoverageApi(PreventApi):
    """Under /api/v1/employer, but its own resource: Governance reads these figures and no employer."""

    resource_name = "employer"
    class_permission_name = "Coverage"
    openapi_spec_tag = "Employers"
    method_permission_name = {"coverage": "read"}

    @expose("/coverage", methods=["GET"])
    @protect()
    @answers
    def coverage(self):
        """Employer awareness coverage.
        ---
        get:
          summary: Active employers with an acknowledged communication in the last 12 months, over active employers;
            overall, per programme director (named for the Prevent Lead), and the overdue employers one may see
          responses:
            200: {description: "as_of, overall, by_director and (with employer access) overdue"}
        """
        return self.response(200, result=coverage_json(employers.coverage(db.session, g.user, date.today())))


class TrainingRecordApi(PreventApi):
    resource_name = "training_record"
    class_permission_name = "Training"
    openapi_spec_tag = "Staff training"
    method_permission_name = {"list_records": "read", "record_completion": "record", "get_record": "read",
                              "verify": "verify"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_records(self):
        """Training records this user may see (their own; everyone's for officers and the Lead), latest first.
        ---
        get:
          summary: List training records; rison q (staff_member_id, verified, page, page_size)
          responses:
            200: {description: "count, ids and result"}
            400: {description: malformed q}
        """
        q = rison_arg()
        page, page_size = page_args(q)
        try:
            filters = training.RecordFilters(
                staff_member_id=parse_int(q["staff_member_id"]) if "staff_member_id" in q else None,
                verified=parse_bool(q["verified"]) if "verified" in q else None)
        except ValueError:
            raise BadQuery("staff_member_id is a whole number; verified is true or false.") from None
        count, records = training.list_records(db.session, g.user, filters, page=page, page_size=page_size)
        return self.response(200, count=count, ids=[record.id for record in records],
                             result=[training_record_json(record) for record in records])

    @expose("/", methods=["POST"])
    @protect()
    @answers
    def record_completion(self):
        """Record a course one completed.
        ---
        post:
          summary: Record one's own completion (course_id, completed_on, certificate_ref)
          responses:
            201: {description: the training record}
            422: {description: missing or invalid fields, or recorded already}
        """
        payload = json_body()
        if isinstance(payload, dict):
            payload.pop("certificate", None)  # a certificate file comes through the page's upload only
        record = training.record_completion(g.user, payload)
        return self.response(201, id=record.id, result=training_record_json(record))

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @answers
    def get_record(self, pk: int):
        """One training record.
        ---
        get:
          summary: One training record
          responses:
            200: {description: the training record}
            404: {description: no such record, or not one this user may see}
        """
        return self.response(200, id=pk, result=training_record_json(training.get_record(db.session, g.user, pk)))

    @expose("/<int:pk>/verify", methods=["POST"])
    @protect()
    @answers
    def verify(self, pk: int):
        """Verify a completion someone recorded (officers and the Lead; never one's own).
        ---
        post:
          summary: Verify a training record
          responses:
            200: {description: the training record}
            409: {description: verified already, or one's own}
        """
        return self.response(200, id=pk, result=training_record_json(training.verify_record(g.user, pk)))


class ComplianceApi(PreventApi):
    """Under /api/v1/training_record, but its own resource: Governance reads these figures and no training record."""

    resource_name = "training_record"
    class_permission_name = "Compliance"
    openapi_spec_tag = "Staff training"
    method_permission_name = {"compliance": "read"}

    @expose("/compliance", methods=["GET"])
    @protect()
    @answers
    def compliance(self):
        """Staff training compliance.
        ---
        get:
          summary: Active staff with current Prevent training over all active staff, overall and per team; for
            officers and the Lead, who is overdue (never trained included) and who is due within 30 days
          responses:
            200: {description: "as_of, overall, teams and (with access to staff training) overdue and due_soon"}
        """
        return self.response(200, result=compliance_json(training.compliance(db.session, g.user, date.today())))


class SubjectRightsApi(PreventApi):
    """The Prevent Lead's decisions on one subject's records: legal hold, and the subject access export."""

    resource_name = "subject"
    class_permission_name = "Retention"
    openapi_spec_tag = "Retention"
    method_permission_name = {"legal_hold": "legal_hold", "access_export": "access_export",
                              "staff_record": "link_staff"}

    @expose("/<int:pk>/legal_hold", methods=["PUT"])
    @protect()
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
          responses:
            200: {description: the file}
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


API_CLASSES = (SubjectRightsApi, RetentionApi, AccessLogApi, ReportApi, CaseApi, ActionApi, SubjectApi, ReferenceApi, AuditApi, EmployerApi, CoverageApi,
               TrainingRecordApi, ComplianceApi)
