"""The API for external speakers and events: ask for approval (any employee), read one's own requests (every one,
for officers and the Lead), and decide (officers and the Lead, never on their own request)."""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.kernel.rest import BadQuery, PreventApi, answers, json_body, page_args, rison_arg, takes
from app.kernel.validation import parse_bool
from app.speakers import use_cases as speakers
from app.speakers.models import SpeakerRequest
from app.speakers.presenters import request_json
from app.speakers.schemas import DECISION, REQUEST


def _json(row: SpeakerRequest, with_warning: bool = True):
    officer = speakers.may_see_checks(g.user)
    declined = speakers.declined_before(db.session, g.user, row) if officer and with_warning else None
    return request_json(row, officer=officer, declined=declined)


class SpeakerRequestApi(PreventApi):
    resource_name = "speaker_request"
    class_permission_name = "SpeakerRequest"
    openapi_spec_tag = "External speakers and events"
    method_permission_name = {"list_requests": "read", "request_approval": "request", "get_request": "read",
                              "decide": "decide"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_requests(self):
        """Requests for external speakers and events.
        ---
        get:
          summary: "The requests this user may see (their own; every one for officers and the Lead), those waiting
            for a decision first; rison q: speaker (part of the name, any case), decided (true or false), page,
            page_size. For officers and the Lead each carries declined_before: the same speaker's declined requests"
          responses:
            200: {description: "count, ids and result"}
            400: {description: malformed q}
        """
        q = rison_arg()
        page, page_size = page_args(q)
        speaker = q.get("speaker")
        if speaker is not None and not isinstance(speaker, str):
            raise BadQuery("speaker is text.")
        try:
            decided = parse_bool(q["decided"]) if "decided" in q else None
        except ValueError:
            raise BadQuery("decided is true or false.") from None
        count, rows = speakers.list_requests(db.session, g.user, speakers.RequestFilters(speaker, decided),
                                             page=page, page_size=page_size)
        return self.response(200, count=count, ids=[row.id for row in rows], result=[_json(row) for row in rows])

    @expose("/", methods=["POST"])
    @protect()
    @takes(REQUEST)
    @answers
    def request_approval(self):
        """Ask for approval of an external speaker or event.
        ---
        post:
          summary: "Any employee: speaker, topic, event_date (today or later), audience, format (online or
            in_person), materials (optional)"
          responses:
            201: {description: the request}
        """
        row = speakers.request_approval(g.user, json_body())
        return self.response(201, id=row.id, result=_json(row))

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @answers
    def get_request(self, pk: int):
        """One request.
        ---
        get:
          summary: "One request: the decision, its reason and conditions; for officers and the Lead also what was
            checked, the risk, and declined_before (the same speaker's declined requests: a warning when not empty)"
          responses:
            200: {description: the request}
        """
        return self.response(200, id=pk, result=_json(speakers.get_request(db.session, g.user, pk)))

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @takes(DECISION)
    @answers
    def decide(self, pk: int):
        """Decide a request.
        ---
        post:
          summary: "Officers and the Lead, never on their own request (403): decision (approved,
            approved_with_conditions, declined), reason, conditions (needed with approved_with_conditions and only
            then), checks (what was checked), risk (low, medium, high). Decided once: 409 after"
          responses:
            200: {description: the request, decided}
        """
        row = speakers.decide(g.user, pk, json_body())
        return self.response(200, id=row.id, result=_json(row))
