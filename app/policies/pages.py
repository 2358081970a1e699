"""The policy pages: "My policies" (every employee confirms reading the current versions), the register (the
Prevent Lead adds versions and says whom each policy applies to), and policy-read compliance."""
from __future__ import annotations

import functools

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel.errors import Conflict
from app.kernel.page_forms import Words
from app.kernel.pages import submit
from app.kernel.security import ROLE_MATRIX
from app.policies import use_cases as policies
from app.training import use_cases as training

VERSION_WORDS = {
    "label": Words(required="Enter the version, such as 4.1"),
    "owner": Words(required="Enter who owns the policy, such as Prevent Lead"),
    "published_on": Words(date="the date the version takes effect"),
    "next_review_on": Words(date="the date of the next review"),
    "summary": Words(), "document_url": Words(),
}
APPLIES_WORDS = {"applies_to_all": Words(), "roles": Words(), "teams": Words(), "version": Words()}


class PolicyView(BaseView):
    """My policies (every employee) and the register (the Prevent Lead)."""

    route_base = "/policies"
    class_permission_name = "Policy"
    method_permission_name = {"mine": "read", "confirm": "confirm", "register": "manage", "policy": "manage",
                              "add_version": "manage", "applies": "manage"}
    default_view = "mine"

    @expose("/mine")
    @has_access
    def mine(self):
        return self.render_template("my_policies.html", policies=policies.my_policies(db.session, g.user))

    @expose("/<int:pk>/confirm", methods=["POST"])
    @has_access
    def confirm(self, pk: int):
        if request.form.get("read") != "yes":
            flash("Tick the box to say you have read this version, then confirm.", "warning")
            return redirect(url_for("PolicyView.mine") + f"#policy-{pk}")
        try:
            mine = policies.confirm(g.user, pk, {"version": request.form.get("version", "")})
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash(f"Thank you: you have confirmed reading version {mine.current.label} of the {mine.policy.name}.",
                  "success")
        return redirect(url_for("PolicyView.mine"))

    @expose("/register/")
    @has_access
    def register(self):
        return self.render_template("policy_register.html", policies=policies.register(db.session, g.user))

    def _render_policy(self, pk: int, *, draft: dict | None = None, errors: dict | None = None,
                       message: str | None = None, status_code: int = 200):
        policy = policies.get_policy(db.session, g.user, pk)
        return self.render_template(
            "policy_form.html", policy=policy, draft=draft or {}, errors=errors or {}, message=message,
            roles=list(ROLE_MATRIX), teams=[t for t in training.teams(db.session) if t != training.NO_TEAM],
            everyone=policies.PREVENT_POLICY), status_code

    @expose("/register/<int:pk>")
    @has_access
    def policy(self, pk: int):
        return self._render_policy(pk)

    @expose("/register/<int:pk>/version", methods=["POST"])
    @has_access
    def add_version(self, pk: int):
        return submit(lambda p: policies.add_version(g.user, pk, p), "version",
                      functools.partial(self._render_policy, pk),
                      "New version added: everyone it applies to is asked to confirm they have read it.",
                      url_for("PolicyView.register"), words=VERSION_WORDS, dates=("published_on", "next_review_on"))

    @expose("/register/<int:pk>/applies", methods=["POST"])
    @has_access
    def applies(self, pk: int):
        def call(payload: dict):
            payload = {**payload, "applies_to_all": "applies_to_all" in request.form,
                       "roles": "\n".join(request.form.getlist("roles"))}
            return policies.set_applies(g.user, pk, payload)
        return submit(call, "applies", functools.partial(self._render_policy, pk), "Saved whom the policy applies to.",
                      url_for("PolicyView.register"), "roles", words=APPLIES_WORDS)


class PolicyComplianceView(BaseView):
    """Policy-read compliance: figures overall, per team and per policy; for officers and the Lead, who has not read."""

    route_base = "/policies/compliance"
    class_permission_name = "PolicyCompliance"
    method_permission_name = {"index": "read"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("policy_compliance.html", compliance=policies.compliance(db.session, g.user))
