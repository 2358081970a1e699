"""The pages for external speakers and events: one's own requests and the form to ask (every employee); the
register, searchable by speaker, and the check and decision on a request (officers and the Prevent Lead)."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel import page_forms
from app.kernel.errors import Conflict, Forbidden, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import PAGE_SIZE, file_download, form_payload, submit, uploaded
from app.speakers import schemas
from app.speakers import use_cases as speakers

# Each form's words for the use cases' messages, in the order of the form (app/kernel/page_forms.py).
REQUEST_WORDS = {
    "speaker": Words(required="Enter the name of the speaker, or of the organisation running the event"),
    "topic": Words(required="Enter what the talk or event is about"),
    "event_date": Words(date="the date of the talk or event", other={
        schemas.NOT_PAST: "The date of the talk or event must be today or in the future"}),
    "audience": Words(required="Enter who will be there, and about how many"),
    "format": Words(required="Choose whether it is online or in person"),
    "materials": Words(), "materials_file": Words(),
}
DECISION_WORDS = {
    "decision": Words(required="Choose your decision"),
    "checks": Words(), "risk": Words(),
    "conditions": Words(required="Enter the conditions of the approval, such as a chair present or a recording"),
    "reason": Words(required="Enter the reason for your decision"),
}


def _options(labels: dict) -> list[tuple[str, str]]:
    return [(value.value, text) for value, text in labels.items()]


class SpeakerView(BaseView):
    """External speakers and events: ask for approval, read one's requests; the register and the decisions."""

    route_base = "/speakers"
    class_permission_name = "SpeakerRequest"
    method_permission_name = {"mine": "read", "new": "request", "register": "read_all", "show": "read",
                              "materials": "read", "decide": "decide"}
    default_view = "mine"

    def _words(self) -> dict:
        return {"formats": schemas.FORMAT_LABELS, "decisions": schemas.DECISION_LABELS, "risks": schemas.RISK_LABELS}

    @expose("/mine")
    @has_access
    def mine(self):
        page = max(request.args.get("page", 0, type=int), 0)
        count, rows = speakers.list_requests(db.session, g.user, speakers.RequestFilters(own=True), page=page,
                                             page_size=PAGE_SIZE)
        return self.render_template("speakers_mine.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE,
                                    **self._words(),
                                    may={"register": speakers.may_see_checks(g.user)})

    def _render_new(self, *, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
                    status_code: int = 200):
        return self.render_template("speakers_form.html", draft=draft or {}, errors=errors or {}, message=message,
                                    formats=_options(schemas.FORMAT_LABELS)), status_code

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._render_new()
        return submit(lambda payload: speakers.request_approval(
            g.user, {**payload, "materials_file": uploaded("materials_file")}), "request", self._render_new,
                      "Sent. A Safeguarding Officer or the Prevent Lead will check it, and you will get an email "
                      "when it is decided.", url_for("SpeakerView.mine"), words=REQUEST_WORDS)

    @expose("/")
    @has_access
    def register(self):
        search = request.args.get("speaker", "").strip()
        waiting = request.args.get("waiting") == "yes"
        page = max(request.args.get("page", 0, type=int), 0)
        count, rows = speakers.list_requests(
            db.session, g.user, speakers.RequestFilters(search or None, False if waiting else None),
            page=page, page_size=PAGE_SIZE)
        return self.render_template(
            "speakers_register.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE, search=search,
            waiting=waiting, declined=speakers.speakers_declined(db.session, g.user, rows), **self._words())

    def _render_show(self, pk: int, *, draft: dict | None = None, errors: dict | None = None,
                     message: str | None = None, status_code: int = 200):
        row = speakers.get_request(db.session, g.user, pk)
        return self.render_template(
            "speakers_request.html", row=row, declined=speakers.declined_before(db.session, g.user, row),
            why_not=speakers.why_not_decide(g.user, row), draft=draft or {}, errors=errors or {}, message=message,
            decision_options=_options(schemas.DECISION_LABELS), risk_options=_options(schemas.RISK_LABELS),
            may={"see_checks": speakers.may_see_checks(g.user)}, **self._words()), status_code

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render_show(pk)

    @expose("/<int:pk>/materials")
    @has_access
    def materials(self, pk: int):
        return file_download(speakers.materials_file(db.session, g.user, pk))

    @expose("/<int:pk>/decision", methods=["POST"])
    @has_access
    def decide(self, pk: int):
        typed = form_payload()
        draft = {"form": "decision", **typed}
        try:
            row = speakers.decide(g.user, pk, typed)
        except InvalidData as exc:
            return self._render_show(pk, draft=draft, errors=page_forms.specific(exc.errors, DECISION_WORDS),
                                     message="Some fields need attention: nothing was saved yet.", status_code=422)
        except Forbidden as exc:
            return self._render_show(pk, draft=draft, message=str(exc), status_code=403)
        except Conflict as exc:
            return self._render_show(pk, draft=draft, message=str(exc), status_code=409)
        said = schemas.DECISION_LABELS[row.decision].lower() if row.decision else "decided"
        flash(f"Decided: {said}. The person who asked will get an email.", "success")
        return redirect(url_for("SpeakerView.show", pk=pk))
