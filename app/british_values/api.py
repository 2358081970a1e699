"""The British values and Learner Voice API: logging activities and survey results, and the figures per programme."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.british_values import use_cases as values
from app.british_values.presenters import activity_json, survey_json
from app.british_values.schemas import ACTIVITY, SURVEY
from app.extensions import db
from app.governance.reports import period
from app.kernel.rest import PreventApi, answers, json_body, takes


class BritishValuesApi(PreventApi):
    resource_name = "british_values"
    class_permission_name = "BritishValues"
    openapi_spec_tag = "British values"
    method_permission_name = {"log_activity": "log", "summary": "read_summary"}

    @expose("/activity", methods=["POST"])
    @protect()
    @takes(ACTIVITY)
    @answers
    def log_activity(self):
        """Log an activity that promoted a British value (Programme Directors and the Prevent Lead).
        ---
        post:
          summary: "An activity: programme, held_on, value (democracy, rule_of_law, individual_liberty,
            mutual_respect), description, evidence_ref (a link, or where the evidence is kept)"
          responses:
            201: {description: the activity}
        """
        activity = values.log_activity(g.user, json_body())
        return self.response(201, id=activity.id, result=activity_json(activity))

    @expose("/summary", methods=["GET"])
    @protect()
    @answers
    def summary(self):
        """Figures per programme for a period (the last twelve months when neither date is given).
        ---
        get:
          summary: "Per programme: activities by British value held in the period, and the Learner Voice results
            (agree, total, percent per question) of the surveys that ended in it; for Governance a question 1 to 4
            learners answered is withheld"
          parameters:
            - {name: from, in: query, required: false, schema: {type: string, format: date}}
            - {name: to, in: query, required: false, schema: {type: string, format: date}}
          responses:
            200: {description: the figures}
            422: {description: a bad date, or a period that ends before it starts}
        """
        if request.args.get("from") or request.args.get("to"):
            start, end = period(request.args.to_dict())
        else:
            start, end = values.default_period()
        return self.response(200, result=values.summary_json(values.summary(db.session, g.user, start, end)))


class LearnerVoiceApi(PreventApi):
    resource_name = "learner_voice"
    class_permission_name = "BritishValues"
    openapi_spec_tag = "British values"
    method_permission_name = {"log_survey": "log"}

    @expose("/", methods=["POST"])
    @protect()
    @takes(SURVEY)
    @answers
    def log_survey(self):
        """Record the results of a Learner Voice survey (Programme Directors and the Prevent Lead).
        ---
        post:
          summary: "programme, period_start, period_end, respondents, and for each question asked <question>_agree
            and <question>_total (feel_safe, british_values, know_how_to_report, respected)"
          responses:
            201: {description: the survey's results}
        """
        survey = values.log_survey(g.user, json_body())
        return self.response(201, id=survey.id, result=survey_json(survey))
