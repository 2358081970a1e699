"""The directory API: whom to call for an area (officers and the Prevent Lead)."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.directory import use_cases as directory
from app.directory.presenters import contact_json
from app.extensions import db
from app.kernel.rest import PreventApi, answers


class DirectoryApi(PreventApi):
    resource_name = "directory"
    class_permission_name = "Directory"
    openapi_spec_tag = "Directory"
    method_permission_name = {"list_contacts": "read"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_contacts(self):
        """Prevent contacts for an area.
        ---
        get:
          summary: "The contacts in use for a local authority (its name, in any case) or a postcode's district; with
            neither, every contact in use. Kinds: police_prevent, channel_lead, mash, dfe_coordinator"
          parameters:
            - {name: local_authority, in: query, required: false, schema: {type: string, maxLength: 200}}
            - {name: postcode, in: query, required: false, schema: {type: string, maxLength: 10}}
          responses:
            200: {description: "result: the contacts"}
            422: {description: a postcode that is not one}
        """
        contacts = directory.find(db.session, g.user, request.args.get("local_authority"),
                                  request.args.get("postcode"))
        return self.response(200, count=len(contacts), result=[contact_json(c) for c in contacts])
