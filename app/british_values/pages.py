"""The British values pages: the figures per programme for a period (with the entries, for programme teams), and
the forms to log an activity and a Learner Voice survey's results."""
from __future__ import annotations

from flask import flash, g, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.british_values import use_cases as values
from app.british_values.schemas import QUESTIONS, VALUE_LABELS
from app.extensions import db
from app.governance.reports import period
from app.kernel import page_forms
from app.kernel.errors import InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import file_download, submit, uploaded
from app.kernel.security import can

ACTIVITY_WORDS = {
    "programme": Words(required="Enter the programme"),
    "held_on": Words(date="the date of the activity"),
    "value": Words(required="Choose the British value it promoted"),
    "description": Words(required="Describe the activity"),
    "evidence_ref": Words(), "evidence": Words(),
}
SURVEY_WORDS = {
    "programme": Words(required="Enter the programme"),
    "period_start": Words(date="the date the survey opened"),
    "period_end": Words(date="the date the survey closed"),
    "respondents": Words(required="Enter how many learners answered the survey",
                         other={"Enter a whole number.": "Enter how many learners answered, as a number"}),
    **{f"{key}_{part}": Words(other={"Enter a whole number.": "Enter a number"})
       for key in QUESTIONS for part in ("agree", "total")},
}


class BritishValuesView(BaseView):
    route_base = "/british_values"
    class_permission_name = "BritishValues"
    method_permission_name = {"index": "read_summary", "activity": "log", "log_activity": "log", "survey": "log",
                              "log_survey": "log", "evidence": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        args, problems = page_forms.for_use_case(request.args.to_dict(), dates=("from", "to"))
        start, end = values.default_period()
        if args.get("from") or args.get("to"):
            try:
                start, end = period(args)
            except InvalidData as exc:
                worded = page_forms.specific(exc.errors, {"from": Words(date="the start of the period"),
                                                          "to": Words(date="the end of the period")}, problems)
                flash(" ".join(message for messages in worded.values() for message in messages), "warning")
        may_read = can(g.user, "can_read", "BritishValues")
        return self.render_template(
            "british_values.html", summary=values.summary(db.session, g.user, start, end), labels=VALUE_LABELS,
            questions=QUESTIONS, may={"read": may_read, "log": can(g.user, "can_log", "BritishValues")},
            activities=values.activities(db.session, g.user, start, end) if may_read else [],
            surveys=values.surveys(db.session, g.user, start, end) if may_read else [])

    def _render_activity(self, *, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
                         status_code: int = 200):
        return self.render_template("british_values_activity.html", draft=draft or {}, errors=errors or {},
                                    message=message, labels=VALUE_LABELS), status_code

    @expose("/activity")
    @has_access
    def activity(self):
        return self._render_activity()

    @expose("/activity", methods=["POST"])
    @has_access
    def log_activity(self):
        return submit(lambda p: values.log_activity(g.user, {**p, "evidence": uploaded("evidence")}), "activity",
                      self._render_activity, "Activity logged.", url_for("BritishValuesView.index"),
                      words=ACTIVITY_WORDS, dates=("held_on",))

    def _render_survey(self, *, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
                       status_code: int = 200):
        return self.render_template("learner_voice_form.html", draft=draft or {}, errors=errors or {},
                                    message=message, questions=QUESTIONS), status_code

    @expose("/survey")
    @has_access
    def survey(self):
        return self._render_survey()

    @expose("/survey", methods=["POST"])
    @has_access
    def log_survey(self):
        return submit(lambda p: values.log_survey(g.user, p), "survey", self._render_survey,
                      "Learner Voice results recorded.", url_for("BritishValuesView.index"), words=SURVEY_WORDS,
                      dates=("period_start", "period_end"))

    @expose("/activity/<int:pk>/evidence")
    @has_access
    def evidence(self, pk: int):
        return file_download(values.evidence_download(db.session, g.user, pk))
