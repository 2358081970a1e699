"""The employers API: employers, their communication log, and coverage."""
from __future__ import annotations

from datetime import date

from flask import g
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.employers import use_cases as employers
from app.employers.presenters import apprentice_json, communication_json, coverage_json, employer_json
from app.employers.schemas import COMMUNICATION, EMPLOYER, EMPLOYER_UPDATE
from app.extensions import db
from app.kernel.rest import BadQuery, PreventApi, answers, json_body, page_args, rison_arg, takes
from app.kernel.validation import parse_bool


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
    @takes(EMPLOYER)
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
    @takes(EMPLOYER_UPDATE)
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
    @takes(COMMUNICATION)
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
