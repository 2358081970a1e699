"""The API of what officers record beside the pathway: parallel safeguarding referrals and the referrer's safety
(app/cases/parallel_referrals.py, referrer_safety.py). Under /api/v1/case/<id>/ like the rest of a case; officers and
the Lead only (404 for a case one may not work on, the reporter's own included; 403 for roles without case access)."""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.cases import parallel_referrals, referrer_safety
from app.cases import use_cases as cases
from app.cases.schemas import PARALLEL_REFERRAL, REFERRER_SAFETY
from app.extensions import db
from app.kernel.rest import PreventApi, answers, json_body, takes


class SafeguardingApi(PreventApi):
    resource_name = "case"
    openapi_spec_tag = "Cases"
    # `read` lets in every role that works on cases; the use cases then answer 404 unless the user works on this one.
    method_permission_name = {"add_parallel_referral": "read", "list_parallel_referrals": "read",
                              "put_referrer_safety": "read", "get_referrer_safety": "read"}

    @expose("/<int:pk>/parallel_referrals", methods=["POST"])
    @protect()
    @takes(PARALLEL_REFERRAL)
    @answers
    def add_parallel_referral(self, pk: int):
        """Record a parallel safeguarding referral (a copy to the MASH, social care, the LADO, HR...).
        ---
        post:
          summary: Record a parallel referral (kind, referred_on, reference, note)
          responses:
            201: {description: the parallel referral}
            404: {description: "no such case, or not one this user works on"}
            409: {description: the case is closed}
            422: {description: "kind, date or note missing or invalid"}
        """
        row = parallel_referrals.record_parallel_referral(g.user, pk, json_body())
        return self.response(201, id=row.id, result=parallel_referrals.referral_json(row))

    @expose("/<int:pk>/parallel_referrals", methods=["GET"])
    @protect()
    @answers
    def list_parallel_referrals(self, pk: int):
        """The case's parallel safeguarding referrals.
        ---
        get:
          summary: Parallel referrals on the case, in the order they were sent
          responses:
            200: {description: "count and result"}
            404: {description: "no such case, or not one this user works on"}
        """
        parallel_referrals.parallel_referrals(db.session, g.user, pk)  # 404 before the opening is logged
        cases.read_case(g.user, pk, "api", what="parallel_referrals")
        rows = parallel_referrals.parallel_referrals(db.session, g.user, pk)
        return self.response(200, count=len(rows), result=[parallel_referrals.referral_json(r) for r in rows])

    @expose("/<int:pk>/referrer_safety", methods=["PUT"])
    @protect()
    @takes(REFERRER_SAFETY)
    @answers
    def put_referrer_safety(self, pk: int):
        """Record the risk to the person who raised the concern (policy section 11).
        ---
        put:
          summary: Referrer safety (risk none|concern|threat_received, police_informed, measures)
          responses:
            200: {description: the referrer's safety as recorded}
            404: {description: "no such case, or not one this user works on"}
            409: {description: the case is closed}
            422: {description: "risk or police_informed missing, or measures missing with a risk"}
        """
        row = referrer_safety.set_referrer_safety(g.user, pk, json_body())
        return self.response(200, result=referrer_safety.safety_json(row))

    @expose("/<int:pk>/referrer_safety", methods=["GET"])
    @protect()
    @answers
    def get_referrer_safety(self, pk: int):
        """The risk to the person who raised the concern, as last recorded.
        ---
        get:
          summary: Referrer safety (result null when never assessed)
          responses:
            200: {description: the referrer's safety}
            404: {description: "no such case, or not one this user works on"}
        """
        referrer_safety.referrer_safety(db.session, g.user, pk)  # 404 before the opening is logged
        cases.read_case(g.user, pk, "api", what="referrer_safety")
        row = referrer_safety.referrer_safety(db.session, g.user, pk)
        return self.response(200, result=referrer_safety.safety_json(row) if row else None)
