"""The Role grants page: a role asked for by one Admin and decided by another person (app/identity/accounts.py)."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.identity import accounts
from app.kernel import page_forms
from app.kernel.errors import Conflict, InvalidData


class RoleGrantView(BaseView):
    """Requests for the roles that open case data, for a second person to approve or decline (another Admin, or the
    Prevent Lead), and the latest changes to users: who, what and why."""

    route_base = "/role-grants"
    class_permission_name = "RoleGrant"
    method_permission_name = {"index": "read", "approve": "approve", "decline": "approve"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self._render()

    def _render(self, draft: dict | None = None, errors: dict | None = None, status_code: int = 200):
        return self.render_template("role_grants.html", pending=accounts.pending_grants(db.session, g.user),
                                    changes=accounts.recent_changes(db.session, g.user), may_decide=accounts.may_decide,
                                    draft=draft or {}, errors=errors or {}), status_code

    @expose("/<int:pk>/approve", methods=["POST"])
    @has_access
    def approve(self, pk: int):
        return self._decide(accounts.approve_grant, pk, "Approved: the role is given.")

    @expose("/<int:pk>/decline", methods=["POST"])
    @has_access
    def decline(self, pk: int):
        return self._decide(accounts.decline_grant, pk, "Declined: the role is not given.")

    def _decide(self, decide, pk: int, done: str):
        reason = request.form.get("reason")
        try:
            decide(g.user, pk, {"reason": reason})
        except InvalidData as exc:
            # The request's form again, its reason box marked: GOV.UK's error summary, the message by the box.
            errors = page_forms.specific(exc.errors, {"reason": page_forms.Words(
                required="Give the reason for your decision: it goes in the audit trail")})
            return self._render({"form": f"grant:{pk}", "reason": reason or ""}, errors, 422)
        except (Conflict, accounts.AccountChangeRefused) as exc:
            flash(str(exc), "warning")
        else:
            flash(done, "success")
        return redirect(url_for("RoleGrantView.index"))
