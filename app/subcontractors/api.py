"""The subcontractors API: the list (officers, the Prevent Lead, Governance)."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.kernel.errors import InvalidData
from app.kernel.rest import PreventApi, answers
from app.kernel.validation import parse_bool
from app.subcontractors import use_cases as subcontractors
from app.subcontractors.presenters import subcontractor_json


class SubcontractorApi(PreventApi):
    resource_name = "subcontractor"
    class_permission_name = "Subcontractor"
    openapi_spec_tag = "Subcontractors"
    method_permission_name = {"list_subcontractors": "read"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_subcontractors(self):
        """Subcontractors.
        ---
        get:
          summary: "The subcontractors in use, by name, with their Prevent contact and the programmes they deliver;
            with retired=true, the retired ones too"
          parameters:
            - {name: retired, in: query, required: false, schema: {type: boolean}}
          responses:
            200: {description: "count and result: the subcontractors"}
            422: {description: retired is not true or false}
        """
        try:
            retired = parse_bool(request.args["retired"]) if "retired" in request.args else False
        except ValueError:
            raise InvalidData({"retired": ["Send true or false."]}) from None
        found = subcontractors.listed(db.session, g.user, include_retired=retired)
        return self.response(200, count=len(found), result=[subcontractor_json(s) for s in found])
