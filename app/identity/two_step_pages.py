"""Two-step sign-in on the web and the API: one gate in front of every route, and the pages behind it.

FAB's password sign-in is unchanged. Then, for a signed-in user who needs a second factor (app/kernel/security.py
`mfa_required`, or who set one up), `second_factor_gate` lets through only OPEN_ENDPOINTS until the session is marked
verified with the stamp of the user's enrolment: pages are sent to the verify page (or to set-up when there is none),
API calls get 401. A bearer token passes only with the claim that the API sign-in (app/kernel/security.py SecurityApi)
puts in it after a good code. Deny by default: a route added later is behind the gate without anyone listing it.
"""
from __future__ import annotations

import getpass

import click
import segno
from flask import Flask, flash, g, jsonify, redirect, request, session, url_for
from flask.cli import AppGroup
from flask_appbuilder import BaseView, expose, has_access
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_login import current_user, logout_user, user_logged_in, user_logged_out
from jwt.exceptions import PyJWTError

from app.extensions import appbuilder, db
from app.identity import sessions, two_step
from app.kernel import page_forms
from app.kernel.errors import Conflict, DomainError, InvalidData
from app.kernel.errors_web import is_api_request

VERIFIED = "mfa_verified"  # in the session: the stamp of the enrolment whose code was entered
# What a signed-in user who still owes the second factor may reach: the two-step pages, signing out, static files,
# and the API sign-in (it asks for the code itself and serves no data).
OPEN_ENDPOINTS = frozenset({
    "TwoStepView.verify", "TwoStepView.enrol", "AuthDBView.logout", "SecurityApi.login", "static",
    "appbuilder.static",
})
UNVERIFIED_SESSION = "Finish signing in first: enter the code from your authenticator app."
TOKEN_WITHOUT_SECOND_FACTOR = ("This token was issued without the second factor. Sign in again with the code from "
                               "your authenticator app as \"totp\".")


def _wants_json() -> bool:
    return is_api_request() or request.is_json


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _session_refusal(factor):
    if _wants_json():
        return jsonify(message=UNVERIFIED_SESSION), 401
    return redirect(url_for("TwoStepView.verify" if two_step.is_enrolled(factor) else "TwoStepView.enrol"))


def second_factor_gate():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        factor = two_step.second_factor(db.session, current_user)
        if not two_step.needs_second_factor(current_user, factor):
            return None
        if two_step.is_enrolled(factor) and session.get(VERIFIED) == two_step.stamp(factor):
            return None
        return _session_refusal(factor)
    token = _bearer_token()
    if token is None:
        return None
    try:
        claims = decode_token(token)
    except (JWTExtendedException, PyJWTError):
        return None  # not a token of ours, or expired: the endpoint refuses it on its own (401)
    user = appbuilder.sm.load_user(claims["sub"])
    if user is None:
        return None
    factor = two_step.second_factor(db.session, user)
    if not two_step.needs_second_factor(user, factor):
        return None
    if two_step.is_enrolled(factor) and claims.get(two_step.MFA_CLAIM) == two_step.stamp(factor):
        return None
    return jsonify(message=TOKEN_WITHOUT_SECOND_FACTOR), 401


def _forget_verification(*_args, **_kwargs) -> None:
    # A new sign-in (or a sign-out) starts unverified, even for the same user in the same browser.
    session.pop(VERIFIED, None)


def qr_code(uri: str) -> str:
    """The otpauth URI as a QR code, drawn here as an SVG data: URI (no network, no script)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


class TwoStepView(BaseView):
    """Setting up two-step sign-in, the second step of signing in, one's recovery codes, and the Admin's reset."""

    route_base = "/two-step"
    class_permission_name = "TwoStepSignIn"
    method_permission_name = {"index": "use", "enrol": "use", "verify": "use", "renew_codes": "use",
                              "users": "reset", "reset": "reset", "unlock": "reset"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        factor = two_step.second_factor(db.session, g.user)
        return self.render_template("two_step.html", factor=factor, enrolled=two_step.is_enrolled(factor),
                                    required=two_step.needs_second_factor(g.user, factor),
                                    codes_left=two_step.recovery_codes_left(db.session, g.user))

    @expose("/enrol", methods=["GET", "POST"])
    @has_access
    def enrol(self):
        if two_step.is_enrolled(two_step.second_factor(db.session, g.user)):
            return redirect(url_for("TwoStepView.index"))
        error = None
        if request.method == "POST":
            try:
                verified, codes = two_step.confirm_enrolment(g.user, {"code": request.form.get("code")})
            except InvalidData as exc:
                error = " ".join(message for messages in exc.errors.values() for message in messages)
            else:
                session[VERIFIED] = verified
                return self.render_template("two_step_codes.html", codes=codes, first_time=True)
        enrolment = two_step.start_enrolment(g.user)
        return self.render_template("two_step_enrol.html", secret=enrolment.secret, qr=qr_code(enrolment.uri),
                                    error=error), (422 if error else 200)

    @expose("/verify", methods=["GET", "POST"])
    @has_access
    def verify(self):
        factor = two_step.second_factor(db.session, g.user)
        if not two_step.is_enrolled(factor):
            return redirect(url_for("TwoStepView.enrol"))
        if session.get(VERIFIED) == two_step.stamp(factor):
            return redirect(self.appbuilder.get_url_for_index)
        error = None
        if request.method == "POST":
            try:
                session[VERIFIED] = two_step.verify_sign_in(g.user, request.form.get("code", ""))
            except two_step.SignInLocked as exc:
                logout_user()
                flash(str(exc), "warning")
                return redirect(self.appbuilder.get_url_for_login)
            except two_step.SecondFactorRefused as exc:
                error = str(exc)
            else:
                return redirect(session.pop(sessions.AFTER_SIGN_IN, None) or self.appbuilder.get_url_for_index)
        return self.render_template("two_step_verify.html", error=error), (422 if error else 200)

    @expose("/recovery-codes", methods=["POST"])
    @has_access
    def renew_codes(self):
        try:
            codes = two_step.renew_recovery_codes(g.user)
        except Conflict as exc:
            flash(str(exc), "warning")
            return redirect(url_for("TwoStepView.index"))
        return self.render_template("two_step_codes.html", codes=codes, first_time=False)

    @expose("/users/")
    @has_access
    def users(self):
        return self._users()

    def _users(self, draft: dict | None = None, errors: dict | None = None, status_code: int = 200):
        return self.render_template("two_step_users.html", rows=two_step.users_sign_in(db.session, g.user),
                                    draft=draft or {}, errors=errors or {}), status_code

    @expose("/users/<int:pk>/reset", methods=["POST"])
    @has_access
    def reset(self, pk: int):
        return self._sign_in_help(two_step.reset_second_factor, pk, "reset", "the reset",
                                  "Two-step sign-in is reset for {}: they set it up again when they next sign in.")

    @expose("/users/<int:pk>/unlock", methods=["POST"])
    @has_access
    def unlock(self, pk: int):
        return self._sign_in_help(two_step.lift_lock, pk, "unlock", "lifting the lock", "{} can sign in again.")

    def _sign_in_help(self, help_with, pk: int, form: str, what: str, done: str):
        reason = request.form.get("reason")
        try:
            person = help_with(g.user, pk, {"reason": reason})
        except InvalidData as exc:
            # The page again, the reason box marked (GOV.UK's error summary, the message by the box).
            errors = page_forms.specific(exc.errors, {"reason": page_forms.Words(
                required=f"Give the reason for {what}: it goes in the audit trail")})
            return self._users({"form": f"{form}:{pk}", "reason": reason or ""}, errors, 422)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash(done.format(person.username), "success")
        return redirect(url_for("TwoStepView.users"))


mfa_cli = AppGroup("mfa", help="Two-step sign-in.")


@mfa_cli.command("reset")
@click.argument("username")
@click.option("--reason", required=True, help="Why: it goes in the audit trail.")
def reset_command(username: str, reason: str) -> None:
    """Remove USERNAME's second factor and recovery codes: they set it up again at their next sign-in."""
    try:
        two_step.reset_from_command_line(f"cli:{getpass.getuser()}", username, reason)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Two-step sign-in reset for {username}: they set it up again at their next sign-in.")


def register_views(builder) -> None:
    builder.add_view(TwoStepView, "Two-step sign-in", category="Account", icon="fa-key")
    builder.add_link("Sign-in help", href="/two-step/users/", category="Security", icon="fa-key")


def register(app: Flask) -> None:
    """The gate runs before every request, after the session and token are readable and before any view."""
    app.before_request(second_factor_gate)
    app.cli.add_command(mfa_cli)
    user_logged_in.connect(_forget_verification, app)
    user_logged_out.connect(_forget_verification, app)
