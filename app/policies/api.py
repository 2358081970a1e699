"""The policies API: the register with one's own confirmations, confirming a version, and compliance."""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.kernel.rest import PreventApi, answers, json_body, takes
from app.policies import use_cases as policies
from app.policies.presenters import compliance_json, my_policy_json
from app.policies.schemas import CONFIRM


class PolicyApi(PreventApi):
    resource_name = "policy"
    class_permission_name = "Policy"
    openapi_spec_tag = "Policies"
    method_permission_name = {"list_policies": "read", "confirm": "confirm"}

    @expose("/", methods=["GET"])
    @protect()
    @answers
    def list_policies(self):
        """The provider's policies, each with its current version and whether the caller has confirmed reading it.
        ---
        get:
          summary: "Every policy: current version (version, owner, published_on, next_review_on, document_url),
            whom it applies to, applies_to_me, and the caller's own confirmation (confirmed, confirmed_at)"
          responses:
            200: {description: "count and result"}
        """
        mine = policies.my_policies(db.session, g.user)
        return self.response(200, count=len(mine), result=[my_policy_json(m) for m in mine])

    @expose("/<int:pk>/confirm", methods=["POST"])
    @protect()
    @takes(CONFIRM)
    @answers
    def confirm(self, pk: int):
        """Confirm "I have read version X" of a policy.
        ---
        post:
          summary: Confirm reading the current version of a policy (again changes nothing)
          responses:
            200: {description: the policy with the caller's confirmation}
            404: {description: no such policy}
            409: {description: the version named is not the current one}
            422: {description: no version named}
        """
        return self.response(200, id=pk, result=my_policy_json(policies.confirm(g.user, pk, json_body())))


class PolicyComplianceApi(PreventApi):
    """Under /api/v1/policy, but its own resource: Governance reads these figures."""

    resource_name = "policy"
    class_permission_name = "PolicyCompliance"
    openapi_spec_tag = "Policies"
    method_permission_name = {"compliance": "read"}

    @expose("/compliance", methods=["GET"])
    @protect()
    @answers
    def compliance(self):
        """Policy-read compliance.
        ---
        get:
          summary: "Active staff who have confirmed the current version of every policy that applies to them, overall
            and per team, and each policy's readers; for officers and the Lead, who has not (not_read)"
          responses:
            200: {description: "as_of, overall, teams, policies and (officers, the Lead) not_read"}
        """
        return self.response(200, result=compliance_json(policies.compliance(db.session, g.user)))
