"""Sessions that end: one per-user session version, checked on every request and every API token.

Every sign-in (the web page and the API) is stamped with the user's session version (`AccountState`). Raising the
version ends every session cookie and token of that user at once. It is raised, in the same transaction as the change
that causes it, whenever a user's password, active flag or roles change, whichever path changes them (FAB's forms, its
user API, the CLI, our code): a flush listener sees the change. Signing out raises it too.

A cookie session also ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after sign-in. Both are
checked here on the server from times kept in the (signed) session, so a captured cookie does not outlive them. API
access tokens expire after JWT_ACCESS_TOKEN_EXPIRES (half the idle limit); refresh tokens after SESSION_MAX_HOURS,
and sooner when not used for SESSION_IDLE_MINUTES: each is kept by its id with the time it was last used.

At sign-in the session starts afresh: whatever it held before (planted by someone else, say) is dropped, and it gets
a new random id. Flask-Login's remember-me cookie is never issued: its marker is dropped with the rest.

Signing out takes a POST with the form token (AuthDBView below), so that a link or an image on another site cannot
sign anyone out; a GET shows a page with the button.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, flash, has_request_context, jsonify, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.security.sqla.models import User
from flask_appbuilder.utils.base import is_safe_redirect_url
from flask_jwt_extended import get_jti
from flask_login import current_user, user_logged_in, user_logged_out
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import appbuilder, db
from app.kernel.errors_web import is_api_request
from app.kernel.uow import unit_of_work
from app.models import AccountState, RefreshToken, utcnow

# What Flask-Login keeps in the session for a signed-in user; everything else is dropped at sign-in. "_remember" is
# not among them, so no remember-me cookie is ever set, whatever a login view asks for.
LOGIN_KEYS = ("_user_id", "_fresh", "_id")
VERSION, SESSION_ID, SIGNED_IN_AT, SEEN_AT = "session_version", "session_id", "signed_in_at", "seen_at"
AFTER_SIGN_IN = "after_sign_in"
# Changes to these end all of the user's sessions and tokens.
SIGN_IN_ATTRIBUTES = ("password", "active", "roles")
TOKEN_VERSION_CLAIM = "session_version"
STATIC_ENDPOINTS = {"static", "appbuilder.static"}
SESSION_CHANGED = ("You were signed out because you signed out elsewhere or your password, role or account changed. "
                   "Sign in again to continue.")
# Endpoints that are not activity: a draft saved as the user types, and the idle warning asking how long is left
# (app/drafts). They do not keep a session alive, and when it has ended they are answered in JSON (401).
QUIET_ENDPOINTS: set[str] = set()
# The id and user of a session that ended in this browser, kept in the (signed) session until the next sign-in: a
# form posted from a page of that session can still be told to be theirs (app/drafts keeps its words as a draft).
ENDED_SESSION = "ended_session"
# Called when a request comes from a browser whose session has ended (now, with the reason, or earlier, with None):
# each may answer the request. app/drafts keeps a form posted then as its user's draft.
SESSION_ENDED_HANDLERS: list[Callable[[dict, str | None], Any]] = []


def current_version(user_id: int) -> int:
    version = db.session.scalar(sa.select(AccountState.session_version).where(AccountState.user_id == user_id))
    return version or 0


def end_all_sessions(session: Session, user_id: int) -> None:
    """Raises the user's session version: every session and token issued before is refused from now on. Written
    with the caller's transaction."""
    state = session.get(AccountState, user_id)
    if state is None:
        session.add(AccountState(user_id=user_id, session_version=1))
    else:
        state.session_version = AccountState.session_version + 1  # in SQL: two workers' raises both count


@event.listens_for(Session, "before_flush")
def _end_sessions_on_account_change(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty):
        if isinstance(obj, User) and obj.id is not None:
            attrs = sa.inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in SIGN_IN_ATTRIBUTES):
                end_all_sessions(session, obj.id)


def sign_out_everywhere(user_id: int) -> None:
    """The API's sign-out: as on the web, every session and token of the user ends."""
    with unit_of_work("account") as session:
        end_all_sessions(session, user_id)


def continue_own_session(user_id: int) -> None:
    """After users change their own password, the session they did it in goes on (stamped with the new version);
    all their others have ended. (Outside a request, from the CLI, there is no such session.)"""
    if has_request_context() and session.get("_user_id") == str(user_id):
        session[VERSION] = current_version(user_id)


def _start_session(sender, user) -> None:
    kept = {key: session[key] for key in LOGIN_KEYS if key in session}
    session.clear()
    session.update(kept)
    now = int(time.time())
    session.update({VERSION: current_version(user.id), SESSION_ID: secrets.token_urlsafe(24),
                    SIGNED_IN_AT: now, SEEN_AT: now})
    # Where the sign-in was asked to return to (`next`: the form someone was signed out of), for after the second step.
    target = request.args.get("next", "") if has_request_context() else ""
    if target and is_safe_redirect_url(target):
        session[AFTER_SIGN_IN] = target


def _signed_out(sender, user) -> None:
    if not getattr(user, "is_authenticated", False):
        return
    sign_out_everywhere(user.id)
    remember = session.get("_remember")  # Flask-Login's note to delete a remember-me cookie, if one was ever sent
    ended = _ended(user.id)  # Flask-Login has taken the user's id out of the session already
    session.clear()
    session[ENDED_SESSION] = ended
    if remember:
        session["_remember"] = remember


def _ended(user_id: int) -> dict:
    return {"id": session.get(SESSION_ID), "user": user_id}


def _answer_after_end(ended: dict, reason: str | None):
    for handler in SESSION_ENDED_HANDLERS:
        answer = handler(ended, reason)
        if answer is not None:
            return answer
    return None


class AuthDBView(fab_views.AuthDBView):
    """FAB's sign-in and sign-out pages; signing out by POST only (CSRFProtect checks its form token). Named as FAB's
    class, so that its endpoints keep their names (AuthDBView.login, AuthDBView.logout)."""

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method == "POST":
            return super().logout()
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("sign_out.html")


def _why_ended(now: int) -> str | None:
    """Why the signed-in session in this request has ended, or None while it holds."""
    config = current_app.config
    idle_minutes, max_hours = config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"]
    if session.get(VERSION) != current_version(int(session["_user_id"])):
        return SESSION_CHANGED
    if now - session.get(SIGNED_IN_AT, 0) > max_hours * 3600:
        return (f"You were signed out {max_hours} hours after signing in, as everyone is. "
                "Sign in again to continue.")
    if now - session.get(SEEN_AT, 0) > idle_minutes * 60:
        return f"You were signed out after {idle_minutes} minutes without activity. Sign in again to continue."
    return None


def check_session():
    """Before every request, ahead of Flask-Login loading the user: a session that has ended is cleared, and the
    request answered as anonymous (pages go to the sign-in page with the reason, the API gets 401)."""
    if request.endpoint in STATIC_ENDPOINTS:
        return None
    if "_user_id" not in session:
        ended = session.get(ENDED_SESSION)
        return _answer_after_end(ended, None) if ended else None
    now = int(time.time())
    reason = _why_ended(now)
    if reason is None:
        if request.endpoint not in QUIET_ENDPOINTS:
            session[SEEN_AT] = now
        return None
    ended = _ended(int(session["_user_id"]))
    session.clear()
    session[ENDED_SESSION] = ended
    answer = _answer_after_end(ended, reason)
    if answer is not None:
        return answer
    if is_api_request():
        return jsonify(message=reason), 401
    flash(reason, "info")
    if request.endpoint in QUIET_ENDPOINTS:
        return jsonify(message=reason), 401
    # Back to the page after signing in again (a page asked for; a form posted goes to the sign-in page alone).
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for(f"{appbuilder.sm.auth_view.endpoint}.login", next=back))


def refresh_token_issued(user_id: int, token: str) -> None:
    """Keeps a new refresh token's id, used now. Tokens idle for longer than the limit can never be used again:
    they go."""
    now = utcnow()
    with unit_of_work("refresh token") as session:
        session.execute(sa.delete(RefreshToken).where(RefreshToken.last_used_at < now - _idle_limit()))
        session.add(RefreshToken(jti=get_jti(token), user_id=user_id, last_used_at=now))


def refresh_token_used(jti: str) -> bool:
    """Marks the refresh token used now; False, and nothing changed, when it was not used for SESSION_IDLE_MINUTES
    (or was never issued here). One conditional update, so that two workers agree."""
    now = utcnow()
    with unit_of_work("refresh token") as session:
        used = session.execute(sa.update(RefreshToken)
                               .where(RefreshToken.jti == jti, RefreshToken.last_used_at >= now - _idle_limit())
                               .values(last_used_at=now))
    return used.rowcount == 1


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _token_claims(identity) -> dict:
    return {TOKEN_VERSION_CLAIM: current_version(int(identity))}


def _token_ended(jwt_header, jwt_payload) -> bool:
    return jwt_payload.get(TOKEN_VERSION_CLAIM) != current_version(int(jwt_payload["sub"]))


def _token_ended_answer(jwt_header, jwt_payload):
    return jsonify(message="This token has ended (signed out, or the password, role or account changed). "
                           "Sign in again."), 401


def register(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, check_session)
    user_logged_in.connect(_start_session, app)
    user_logged_out.connect(_signed_out, app)
    jwt = appbuilder.sm.jwt_manager
    jwt.additional_claims_loader(_token_claims)
    jwt.token_in_blocklist_loader(_token_ended)
    jwt.revoked_token_loader(_token_ended_answer)
