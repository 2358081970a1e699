"""The REST API (`/api/v1`): JSON in, one service call, JSON out. Rules live in the services and app/security.py."""
from __future__ import annotations

import dataclasses
import functools
import io
import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import prison
from flask import g, jsonify, request, send_file
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import protect
from werkzeug.exceptions import BadRequest

from app import audit, idempotency, workflow
from app.errors import Conflict, DomainError, InvalidData
from app.errors_web import is_api_request
from app.extensions import db
from app.models import CaseStatus, ConcernType, Indicator
from app.presenters import (
    access_json,
    action_json,
    apprentice_json,
    audit_json,
    break_glass_json,
    case_json,
    communication_json,
    compliance_json,
    coverage_json,
    employer_json,
    entry_json,
    subject_json,
    training_record_json,
)
from app.services import access, actions, cases, employers, oversight, reports, retention, subjects, training
from app.services.cases import CaseFilters
from app.validation import FALSE_WORDS, LARGEST_INT, TRUE_WORDS, ApiPayload, parse_bool, parse_int, text_parser

log = logging.getLogger(__name__)


class BadQuery(Exception):
    pass


def json_body() -> Any:
    """The request's JSON; BadRequest (400) when it is not JSON at all. An object comes as an ApiPayload, which the
    services' forms parse strictly: a key they do not read is refused (422)."""
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest("The request body must be JSON.")
    return ApiPayload(payload) if isinstance(payload, dict) else payload


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


def register(app) -> None:
    """The API's answers that no endpoint gives itself: malformed `q` and bad tokens."""
    guard_rison_arguments(app)

    def bad_token(reason: str):
        # flask-jwt-extended answers 422 with its own wording; the contract says 401 for a bad token.
        return jsonify(message="Sign in again: the token is not valid."), 401

    jwt_manager = app.appbuilder.sm.jwt_manager
    jwt_manager.invalid_token_loader(bad_token)
    jwt_manager.unauthorized_loader(bad_token)


def guard_rison_arguments(app) -> None:
    """Flask-AppBuilder's own APIs parse `q` too, and crash on `q=((`: refuse malformed `q` before any API runs."""

    @app.before_request
    def refuse_malformed_q():
        if is_api_request() and request.args.get("q"):
            try:
                _parse_rison(request.args["q"])
            except BadQuery as exc:
                return {"message": str(exc)}, 400
        return None


def answers(view: Callable) -> Callable:
    """Turns domain errors into the contract's answers; anything unexpected is logged and answered plainly. A POST
    with an Idempotency-Key takes effect once: the same request again gets the first answer (app/idempotency.py)."""

    @functools.wraps(view)
    def wrapped(self: BaseApi, *args, **kwargs):
        def work():
            return _answer(self, lambda: view(self, *args, **kwargs))

        key = request.headers.get(idempotency.HEADER)
        if request.method != "POST" or key is None:
            return work()
        return _answer(self, lambda: _idempotent(key, work))

    wrapped.takes_idempotency_key = True  # for the OpenAPI document (on its POSTs)
    return wrapped


def _idempotent(key: str, work: Callable):
    if not 0 < len(key) <= idempotency.KEY_MAX or not key.isprintable():
        raise BadRequest(f"The {idempotency.HEADER} header must be 1 to {idempotency.KEY_MAX} printable characters.")
    response, repeated = idempotency.once(key, work, fingerprint=idempotency.request_fingerprint())
    if repeated:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _answer(api: BaseApi, call: Callable):
    try:
        return call()
    except InvalidData as exc:
        return api.response(422, message=exc.errors)
    except Conflict as exc:
        return api.response(409, message=str(exc), status=exc.status)
    except DomainError as exc:
        return api.response(exc.status_code, message=str(exc))
    except (BadRequest, BadQuery) as exc:
        return api.response(400, message=getattr(exc, "description", None) or str(exc))
    except Exception:
        log.exception("API error")
        db.session.rollback()
        return api.response(500, message="Something went wrong on our side. Nothing was changed.")


# --- what the OpenAPI document says of each operation -------------------------------------------------------------

def text(limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit}


def one_of(choices) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)}


ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": LARGEST_INT}
WHOLE: dict[str, Any] = {"type": "integer", "minimum": -LARGEST_INT - 1, "maximum": LARGEST_INT}
# true/false, or the words that the parser reads as yes or no
BOOL: dict[str, Any] = {"anyOf": [{"type": "boolean"}, one_of(sorted(TRUE_WORDS | FALSE_WORDS))]}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}


# Forms read a blank optional value as not given: a date of birth left empty is "" from many clients.
BLANK: dict[str, Any] = {"type": "string", "pattern": r"^\s*$"}


def body(required: dict[str, dict], optional: dict[str, dict] | None = None) -> dict[str, Any]:
    """A JSON object of exactly these fields (the services' forms refuse any other with 422). Optional fields may
    be null, blank or left out; required text must not be blank."""
    properties = {name: ({**schema, "minLength": 1, "pattern": r"\S"} if schema.get("type") == "string" and
                         "enum" not in schema and "format" not in schema else schema)
                  for name, schema in required.items()}
    properties.update({name: nullable(schema) if "format" not in schema else
                       {"anyOf": [nullable(schema), BLANK]} for name, schema in (optional or {}).items()})
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:
        return {"anyOf": [nullable(schema["anyOf"][0]), *schema["anyOf"][1:]]}
    return {**schema, "nullable": True}


def takes(schema: dict[str, Any]) -> Callable:
    """Declares the JSON body an endpoint takes, for the OpenAPI document."""
    def mark(view: Callable) -> Callable:
        view.request_body = schema
        return view
    return mark


def _event_data() -> dict[str, dict]:
    """Every event's data fields, from the workflow table (a field several events take accepts the union)."""
    kinds = {"date": DATE, "bool": BOOL, "text": text(workflow.TEXT_MAX), "short_text": text(workflow.SHORT_TEXT_MAX)}
    fields: dict[str, dict] = {}
    for row in workflow.TRANSITIONS:
        for spec in row.fields:
            if spec.kind == "choice":
                known = fields.get(spec.name, {}).get("enum", [])
                fields[spec.name] = one_of(known + [c for c in spec.choices if c not in known])
            else:
                fields[spec.name] = kinds[spec.kind]
    return fields


SUBJECT = {"full_name": text(200), "subject_type": one_of(subjects.SUBJECT_TYPES)}
SUBJECT_DETAILS = {"date_of_birth": DATE, "programme": text(200), "learner_ref": text(64), "employer_id": ID}
EMPLOYER_DETAILS = {**{name: text(limit) for name, limit in employers.EMPLOYER_TEXT_FIELDS.items() if name != "name"},
                    "contact_email": {**text(employers.EMPLOYER_TEXT_FIELDS["contact_email"]), "format": "email"},
                    "active": BOOL, "director_id": ID}
EMPLOYER_NAME = {"name": text(employers.EMPLOYER_TEXT_FIELDS["name"])}
BODIES = {
    "subject": body(SUBJECT, SUBJECT_DETAILS),
    "concern": body(
        {"description": text(cases.DESCRIPTION_MAX), "occurred_at": DATE_TIME, "immediate_danger": BOOL},
        {"subject_id": ID, "subject": body(SUBJECT, SUBJECT_DETAILS), "location": text(200),
         "indicator_ids": {"type": "array", "items": ID}, "concern_type_id": ID, "police_called": BOOL,
         "police_incident_number": text(64), "action_taken": text(cases.DESCRIPTION_MAX),
         "dso_informed_verbally": BOOL}),
    "event": body({"event": one_of(workflow.EVENTS), "reason": text(workflow.REASON_MAX)},
                  {"version": WHOLE, **_event_data()}),
    "risk": body({"police_called": BOOL, "note": text(cases.DESCRIPTION_MAX)}, {"police_incident_number": text(64)}),
    "action": body({"title": text(actions.TITLE_MAX), "owner_id": ID, "due_date": DATE}),
    "action_update": body({"status": one_of(("done", "cancelled"))},
                          {"completion_note": text(actions.NOTE_MAX), "version": WHOLE}),
    "note": body({"kind": one_of(cases.NOTE_KINDS), "text": text(cases.DESCRIPTION_MAX)}, {"source": text(200)}),
    "grant": body({"user_id": ID, "reason": text(access.REASON_MAX)}),
    "revoke": body({"reason": text(access.REASON_MAX)}),
    "employer": body(EMPLOYER_NAME, EMPLOYER_DETAILS),
    "employer_update": body({}, {**EMPLOYER_NAME, **EMPLOYER_DETAILS, "version": WHOLE}),
    "communication": body(
        {"occurred_on": DATE, "method": one_of(employers.METHODS),
         "shared": {"type": "array", "items": one_of(employers.SHARED_ITEMS), "minItems": 1}},
        {"summary": text(employers.SUMMARY_MAX), "acknowledged_on": DATE, "acknowledged_by": text(200),
         "next_contact_due": DATE}),
    "completion": body({"course_id": ID, "completed_on": DATE}, {"certificate_ref": text(100)}),
    "break_glass": body({"reason": text(access.BREAK_GLASS_REASON_MAX)}),
    "approve_erasure": body({"subject_ids": {"type": "array", "items": ID, "minItems": 1},
                             "reason": text(retention.REASON_MAX)}),
    "legal_hold": body({"hold": BOOL, "reason": text(retention.REASON_MAX)}),
    "staff_record": body({"staff": text(retention.STAFF_KEY_MAX)}),
}
MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
CONFLICT = {"type": "object", "required": ["message"],
            "properties": {"message": {"type": "string"}, "status": {"type": "string", "nullable": True}}}
FIELD_ERRORS = {"type": "object", "required": ["message"], "properties": {"message": {
    "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}
ERRORS = {
    "400": ("malformed JSON or q", MESSAGE), "401": ("not signed in, or a bad token", MESSAGE),
    "403": ("the role may not do this", MESSAGE), "404": ("no such record, or not one this user may see", MESSAGE),
    "409": ("the record's state or version does not allow this", CONFLICT),
    "422": ("missing, invalid, unknown or protected fields", FIELD_ERRORS),
}


def describe(operation: dict[str, Any], method: str, path: str, view: Callable) -> None:
    """Completes an operation's description with what every endpoint does alike: its path parameters (FAB leaves
    a custom route's out), its JSON body, JSON answers, and the error answers that the contract gives."""
    names = re.findall(r"{(\w+)}", path)
    declared = {p.get("name") for p in operation.setdefault("parameters", []) if isinstance(p, dict)}
    operation["parameters"] += [{"name": name, "in": "path", "required": True, "schema": ID}
                                for name in names if name not in declared]
    if method == "post" and getattr(view, "takes_idempotency_key", False):
        operation["parameters"].append({"name": idempotency.HEADER, "in": "header", "required": False,
                                        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX},
                                        "description": "The same key again gets the first answer, and does nothing."})
    if not operation["parameters"]:
        del operation["parameters"]
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if str(status).startswith("2"):
            response.setdefault("content", {"application/json": {"schema": {"type": "object"}}})
    writes = method in ("post", "put", "delete")
    schema = getattr(view, "request_body", None)
    if schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    wanted = {"400", "401", "403"} | ({"404"} if names else set()) | ({"409", "422"} if writes else set())
    for status in wanted | {str(s) for s in responses if str(s) in ERRORS}:
        description, error_schema = ERRORS[status]
        response = responses.pop(status, None) or responses.pop(int(status), None) or {"description": description}
        response["content"] = {"application/json": {"schema": error_schema}}
        responses[status] = response


class PreventApi(BaseApi):
    # Tokens only: a browser cookie must not authorise API writes, which are exempt from CSRF checks.
    allow_browser_login = False
    class_permission_name = "Case"

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs) -> None:
        super().operation_helper(path=path, operations=operations, methods=methods, func=func, **kwargs)
        for method in methods or ():
            if method.lower() in operations:
                describe(operations[method.lower()], method.lower(), path, func)


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
    @takes(BODIES["concern"])
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
            404: {description: "no such case, or not visible to this user"}
        """
        view = cases.read_case(g.user, pk, "api")
        return self.response(200, id=pk, result=case_json(view.case, g.user, access=view.access))

    @expose("/<int:pk>/transition", methods=["POST"])
    @protect()
    @takes(BODIES["event"])
    @answers
    def take_event(self, pk: int):
        """Take a workflow event.
        ---
        post:
          summary: Take a workflow event (event, reason, version, and the event's data)
          responses:
            200: {description: the case after the event}
            409: {description: "not allowed from the current state, or stale version"}
            422: {description: reason or data missing}
        """
        case = cases.transition(g.user, pk, json_body())
        return self.response(200, id=pk, result=case_json(case, g.user))

    @expose("/<int:pk>/immediate_risk", methods=["POST"])
    @protect()
    @takes(BODIES["risk"])
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
        items = cases.read_chronology(g.user, pk, "api")
        return self.response(200, result=[entry_json(item) for item in items])

    @expose("/<int:pk>/actions", methods=["POST"])
    @protect()
    @takes(BODIES["action"])
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
    @takes(BODIES["note"])
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
        events = cases.read_audit_trail(g.user, pk, "api")
        return self.response(200, result=[audit_json(ev) for ev in events])

    @expose("/<int:pk>/export", methods=["GET"])
    @protect()
    @answers
    def export_chronology(self, pk: int):
        """The case's chronology as a file.
        ---
        get:
          summary: Export the chronology as a PDF or CSV file
          parameters:
            - {name: format, in: query, required: true, schema: {type: string, enum: [pdf, csv]}}
            - {name: redact_staff, in: query, required: false, schema: {type: boolean}}
          responses:
            200:
              description: the file
              content:
                application/pdf: {schema: {type: string, format: binary}}
                text/csv: {schema: {type: string}}
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
    @takes(BODIES["grant"])
    @answers
    def grant_access(self, pk: int):
        """Grant an officer access to a restricted case (Prevent Lead).
        ---
        post:
          summary: Grant access (user_id, reason)
          responses:
            201: {description: the grant}
            409: {description: "the case is not restricted, or access was granted already"}
        """
        grant = access.grant_access(g.user, pk, json_body())
        return self.response(201, result={"case_id": grant.case_id, "user_id": grant.user_id,
                                          "granted_at": grant.granted_at.isoformat()})

    @expose("/<int:pk>/grants/<int:user_id>", methods=["DELETE"])
    @protect()
    @takes(BODIES["revoke"])
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
    @takes(BODIES["break_glass"])
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
    @takes(BODIES["action_update"])
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
    @takes(BODIES["subject"])
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
        try:
            text = text_parser(200)(rison_arg().get("search", ""))
        except ValueError:
            raise BadQuery("search is text of up to 200 characters.") from None
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
    @takes(BODIES["employer"])
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
            404: {description: "no such employer, or not one this user keeps"}
        """
        return self._one(pk)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @takes(BODIES["employer_update"])
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
    @takes(BODIES["communication"])
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
    @takes(BODIES["completion"])
    @answers
    def record_completion(self):
        """Record a course one completed.
        ---
        post:
          summary: Record one's own completion (course_id, completed_on, certificate_ref)
          responses:
            201: {description: the training record}
            422: {description: "missing or invalid fields, or recorded already"}
        """
        record = training.record_completion(g.user, json_body())
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
            404: {description: "no such record, or not one this user may see"}
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
            409: {description: "verified already, or one's own"}
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
    @takes(BODIES["legal_hold"])
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
    @takes(BODIES["staff_record"])
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
    @takes(BODIES["approve_erasure"])
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


API_CLASSES = (SubjectRightsApi, RetentionApi, AccessLogApi, ReportApi, CaseApi, ActionApi, SubjectApi, ReferenceApi,
               AuditApi, EmployerApi, CoverageApi, TrainingRecordApi, ComplianceApi)
