"""The cases API: concerns, the pathway's events, immediate risk, notes, actions, subjects, restricted
access and the reference data a concern is coded with. JSON in, one use case, JSON out."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import g, request, send_file
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.cases import access, actions, attachments, my_work, reporter, subjects
from app.cases import use_cases as cases
from app.cases.presenters import (
    access_json,
    action_json,
    audit_json,
    break_glass_json,
    case_json,
    entry_json,
    subject_json,
)
from app.cases.schemas import (
    ACTION,
    ACTION_UPDATE,
    BREAK_GLASS,
    CONCERN,
    EVENT,
    GRANT,
    INFORMATION,
    NOTE,
    REVOKE,
    RISK,
    SUBJECT,
)
from app.cases.use_cases import CaseFilters
from app.extensions import db
from app.governance import oversight
from app.kernel.pages import file_download
from app.kernel.rest import BadQuery, PreventApi, answers, json_body, page_args, rison_arg, takes
from app.kernel.validation import parse_bool, parse_int, text_parser
from app.models import CaseStatus, ConcernType, Indicator


class CaseApi(PreventApi):
    resource_name = "case"
    openapi_spec_tag = "Cases"
    method_permission_name = {
        "list_cases": "read", "get_case": "read", "raise_concern": "raise", "take_event": "transition",
        "immediate_risk": "record_risk", "get_chronology": "read_all", "add_action": "manage_actions",
        "add_note": "transition", "get_audit": "read_audit", "grant_access": "grant_access",
        "revoke_access": "grant_access", "get_access_log": "read_access_log",
        "export_chronology": "export", "break_glass": "break_glass",
        "add_attachment": "read", "list_attachments": "read", "get_attachment": "read",
        "add_information": "read_own",
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
    @takes(CONCERN)
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
    @takes(EVENT)
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
    @takes(RISK)
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
    @takes(ACTION)
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
    @takes(NOTE)
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
    @takes(GRANT)
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
    @takes(REVOKE)
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
    @takes(BREAK_GLASS)
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


    @expose("/<int:pk>/attachments", methods=["POST"])
    @protect()
    @answers
    def add_attachment(self, pk: int):
        """Attach a file to a concern: its reporter, or an officer working on the case.
        ---
        post:
          summary: Attach a file (multipart, field `file`; PDF, PNG, JPEG or Word as UPLOAD_TYPES allows, told by
            its content, up to UPLOAD_MAX_BYTES)
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file: {type: string, format: binary}
                  required: [file]
          responses:
            201: {description: the attachment (no content; download it by its id)}
            404: {description: "no such case, or not one this user raised or works on"}
            409: {description: the case is closed}
            413: {description: the request is far larger than UPLOAD_MAX_BYTES}
            422: {description: "no file, or a file refused: its type, size or content"}
        """
        upload = request.files.get("file")
        attachment = attachments.add_attachment(g.user, pk, upload.filename or "" if upload else "",
                                                upload.read() if upload else b"")
        return self.response(201, id=attachment.id, result=attachments.attachment_json(attachment))

    @expose("/<int:pk>/attachments", methods=["GET"])
    @protect()
    @answers
    def list_attachments(self, pk: int):
        """The files on a case this user may see: officers every one, the reporter those they added.
        ---
        get:
          summary: Files on the case, oldest first (names, types and sizes; download each by its id)
          responses:
            200: {description: attachments}
        """
        view = cases.read_case(g.user, pk, "api", what="attachments")
        rows = attachments.visible_attachments(db.session, g.user, view.case, view.access)
        return self.response(200, count=len(rows), result=[attachments.attachment_json(a) for a in rows])

    @expose("/<int:pk>/attachments/<int:attachment_id>", methods=["GET"])
    @protect()
    @answers
    def get_attachment(self, pk: int, attachment_id: int):
        """Download a file on a case: always as an attachment, never cached.
        ---
        get:
          summary: Download an attachment
          responses:
            200:
              description: the file
              content:
                application/pdf: {schema: {type: string, format: binary}}
                image/png: {schema: {type: string, format: binary}}
                image/jpeg: {schema: {type: string, format: binary}}
                application/vnd.openxmlformats-officedocument.wordprocessingml.document:
                  schema: {type: string, format: binary}
            404: {description: "no such file on a case this user may see"}
        """
        return file_download(attachments.attachment_file(db.session, g.user, pk, attachment_id))

    @expose("/<int:pk>/information", methods=["POST"])
    @protect()
    @takes(INFORMATION)
    @answers
    def add_information(self, pk: int):
        """The person who raised a concern adds information to it; its officers are told at once.
        ---
        post:
          summary: Add information to one's own concern (text)
          responses:
            201: {description: the chronology entry}
            404: {description: "no such case, or not one this user raised"}
            409: {description: the concern is closed}
            422: {description: the text is missing or too long}
        """
        entry = reporter.add_information(g.user, pk, json_body())
        return self.response(201, id=entry.id, result={
            "id": entry.id, "case_id": entry.case_id, "at": entry.at.isoformat(), "kind": entry.kind,
            "text": entry.reason})


class MyWorkApi(PreventApi):
    resource_name = "my_work"
    openapi_spec_tag = "My work"
    method_permission_name = {"get_my_work": "read_all"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def get_my_work(self):
        """What waits for this officer or Lead: open actions, new concerns, cases awaiting their decision, reviews.
        ---
        get:
          summary: My work (open actions overdue first, cases awaiting me, reviews due)
          responses:
            200: {description: "actions, to_acknowledge, awaiting_decision, reviews_due"}
        """
        return self.response(200, result=my_work.my_work_json(my_work.my_work(db.session, g.user)))


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


class ActionApi(PreventApi):
    resource_name = "action"
    openapi_spec_tag = "Actions"
    method_permission_name = {"update_action": "manage_actions"}

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @takes(ACTION_UPDATE)
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
    @takes(SUBJECT)
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
