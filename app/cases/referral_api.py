"""The referral form's API (issue 13, point 1): the national Prevent referral form of a case as JSON or PDF, and its
details recorded. Officers and the Prevent Lead; 404 for a case one may not see, 403 for other roles."""
from __future__ import annotations

import io

from flask import g, request, send_file
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.cases import referral_form
from app.cases.referral_form import REFERRAL_FORM
from app.kernel.rest import PreventApi, answers, json_body, takes


class ReferralFormApi(PreventApi):
    resource_name = "case"
    openapi_spec_tag = "Referral practice"
    method_permission_name = {"get_referral_form": "export", "put_referral_form": "transition"}

    @expose("/<int:pk>/referral_form", methods=["GET"])
    @protect()
    @answers
    def get_referral_form(self, pk: int):
        """The national Prevent referral form of a case: audited, and in the access log.
        ---
        get:
          summary: "The referral form in its sections (person, education_employment, concern, vulnerabilities,
            online_activity, contacts, threats, family, other_agencies, referrer_actions, referrer,
            contacts_suggested), as JSON or, with format=pdf, as a PDF ready to send"
          parameters:
            - {name: format, in: query, required: false, schema: {type: string, enum: [json, pdf]}}
          responses:
            200:
              description: the form
              content:
                application/json: {schema: {type: object}}
                application/pdf: {schema: {type: string, format: binary}}
            404: {description: "no such case, or not one this user may see"}
            422: {description: unknown format}
        """
        fmt, document, pdf = referral_form.download(g.user, pk, dict(request.args))
        if pdf is None:
            return self.response(200, id=pk, result=document)
        return send_file(io.BytesIO(pdf), mimetype=referral_form.FORMATS[fmt], as_attachment=True,
                         download_name=referral_form.filename(document, fmt))

    @expose("/<int:pk>/referral_form", methods=["PUT"])
    @protect()
    @takes(REFERRAL_FORM)
    @answers
    def put_referral_form(self, pk: int):
        """Record the referral form's details of a case: the whole form (a field left out is cleared).
        ---
        put:
          summary: "Record the referral form's details (address, postcode, local_authority, gender, nationality,
            education_employment, special_needs, needs_vulnerabilities, online_activity, group_contacts,
            threats_intentions, family_context, parents_carers_told, other_agencies, referrer_actions; version)"
          responses:
            200: {description: "the details recorded, with their version"}
            404: {description: "no such case, or not one this user may see"}
            409: {description: "the case is closed, or the details changed since `version` was read"}
            422: {description: a field is invalid}
        """
        details = referral_form.update_referral_form(g.user, pk, json_body())
        return self.response(200, id=pk, result=referral_form.details_json(details))
