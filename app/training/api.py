"""The training API: staff training records, their verification, and compliance."""
from __future__ import annotations

from datetime import date

from flask import g
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.kernel.rest import BadQuery, PreventApi, answers, json_body, page_args, rison_arg, takes
from app.kernel.validation import parse_bool, parse_int
from app.training import use_cases as training
from app.training.presenters import compliance_json, course_json, training_record_json
from app.training.schemas import COMPLETION


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
    @takes(COMPLETION)
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
          summary: Active staff current in their training over all active staff, overall, per team and per
            subcontractor; current means any current Prevent training and every course the Prevent Lead requires
            of their role or team (requirements, listed); for officers and the Lead, who is overdue (never trained
            included) and who is due within 30 days, each with what is outstanding
          responses:
            200: {description: "as_of, overall, teams, subcontractors, requirements and (with access to staff
              training) overdue and due_soon"}
        """
        return self.response(200, result=compliance_json(training.compliance(db.session, g.user, date.today())))


class CourseReferenceApi(PreventApi):
    """Under /api/v1/reference, but its own resource: whoever may record a completion learns the course ids."""

    resource_name = "reference"
    class_permission_name = "Training"
    openapi_spec_tag = "Staff training"
    method_permission_name = {"courses": "record"}

    @expose("/courses", methods=["GET"])
    @protect()
    @answers
    def courses(self):
        """The training courses one may record a completion of.
        ---
        get:
          summary: "The courses in use: id, name, kind (prevent: Prevent duty training; other: related training
            counted where the Prevent Lead requires it) and refresher_months (null: the provider's setting)"
          responses:
            200: {description: "result: the courses"}
        """
        courses = training.courses(db.session)
        return self.response(200, count=len(courses), result=[course_json(course) for course in courses])
