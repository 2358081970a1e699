"""The risk assessment's API: the risks and the action plan, and the Prevent Lead's signed-off versions. Governance
and officers read (`read`); the Lead writes (`edit`); every other role gets 403."""
from __future__ import annotations

from datetime import date

from flask import g
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.kernel.rest import PreventApi, answers, json_body, takes
from app.risks import use_cases as risks
from app.risks.presenters import action_json, review_json, risk_json
from app.risks.schemas import RISK, RISK_ACTION, RISK_ACTION_UPDATE, SIGN_OFF


class RiskApi(PreventApi):
    resource_name = "risk"
    class_permission_name = "Risk"
    openapi_spec_tag = "Risk assessment"
    method_permission_name = {"list_risks": "read", "add_risk": "edit", "update_risk": "edit", "add_action": "edit",
                              "update_action": "edit", "sign_off": "edit", "list_reviews": "read"}

    def _risk(self, pk: int, status: int = 200):
        risk = risks.get_risk(db.session, g.user, pk)
        return self.response(status, id=risk.id, result=risk_json(risk, date.today()))

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_risks(self):
        """The risk assessment as it stands.
        ---
        get:
          summary: "Every risk, by area, with its rag (green, amber, red: from likelihood x impact) and its actions
            (status open, done or cancelled; overdue when open after the due date)"
          responses:
            200: {description: "count, ids and result"}
        """
        rows = risks.list_risks(db.session, g.user)
        today = date.today()
        return self.response(200, count=len(rows), ids=[risk.id for risk in rows],
                             result=[risk_json(risk, today) for risk in rows])

    @expose("/", methods=["POST"])
    @protect()
    @takes(RISK)
    @answers
    def add_risk(self):
        """Add a risk to the assessment (the Prevent Lead).
        ---
        post:
          summary: "Add a risk: area, title, likelihood 1-5, impact 1-5, controls; answered with its rag"
          responses:
            201: {description: the risk}
            422: {description: missing or invalid fields}
        """
        risk = risks.add_risk(g.user, json_body())
        return self._risk(risk.id, 201)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @takes(RISK)
    @answers
    def update_risk(self, pk: int):
        """Change a risk (the Prevent Lead).
        ---
        put:
          summary: "Change a risk: the whole risk, with the version read (409 if it changed since)"
          responses:
            200: {description: the risk}
            404: {description: no such risk}
            409: {description: the risk changed since it was read}
            422: {description: missing or invalid fields}
        """
        risks.update_risk(g.user, pk, json_body())
        return self._risk(pk)

    @expose("/<int:pk>/actions", methods=["POST"])
    @protect()
    @takes(RISK_ACTION)
    @answers
    def add_action(self, pk: int):
        """Add an action to the plan, for a risk (the Prevent Lead).
        ---
        post:
          summary: "Add an action: title, owner_id (anyone with an active account), due_date"
          responses:
            201: {description: the action}
            404: {description: no such risk}
            422: {description: missing or invalid fields}
        """
        action = risks.add_action(g.user, pk, json_body())
        return self.response(201, id=action.id, result=action_json(action, date.today()))

    @expose("/action/<int:pk>", methods=["PUT"])
    @protect()
    @takes(RISK_ACTION_UPDATE)
    @answers
    def update_action(self, pk: int):
        """Complete or cancel an action of the plan (the Prevent Lead).
        ---
        put:
          summary: "status done (with a completion_note) or cancelled; version to refuse a stale change"
          responses:
            200: {description: the action}
            404: {description: no such action}
            409: {description: the action is no longer open, or changed since it was read}
            422: {description: missing or invalid fields}
        """
        action = risks.update_action(g.user, pk, json_body())
        return self.response(200, id=action.id, result=action_json(action, date.today()))

    @expose("/review", methods=["POST"])
    @protect()
    @takes(SIGN_OFF)
    @answers
    def sign_off(self):
        """Sign the risk assessment off as it stands (the Prevent Lead).
        ---
        post:
          summary: "Sign off with a note: every risk and action is kept as it stands now"
          responses:
            201: {description: the signed-off version}
            409: {description: there are no risks to sign off}
            422: {description: the note is missing}
        """
        review = risks.sign_off(g.user, json_body())
        number, review = risks.get_review(db.session, g.user, review.id)
        return self.response(201, id=review.id, result=review_json(review, number))

    @expose("/review/", methods=["GET"])
    @protect()
    @answers
    def list_reviews(self):
        """The signed-off versions of the assessment.
        ---
        get:
          summary: "Each sign-off, newest first, with the risks and their actions as they stood then"
          responses:
            200: {description: "count and result"}
        """
        rows = risks.reviews(db.session, g.user)
        return self.response(200, count=len(rows), result=[review_json(review, number) for number, review in rows])
