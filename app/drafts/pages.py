"""Drafts on the pages: the form's draft token, the browser's saves, the idle warning's questions, and the forms
posted after the session ended.

Each form that keeps a draft carries `draft_field(form_key)` (a template global): a hidden `draft_token`, signed
with SECRET_KEY, naming the user, the form key, the session it was shown in and this copy of the form, and the
draft saved before, for app/static/drafts.js to put back. The token is minted only when the page shows the form to
the user, so a user keeps drafts only of forms they were shown (and a case form only while they can open the case).

- `POST /drafts/save` ({"token", "fields"}) keeps the fields as the signed-in user's draft of the token's form;
  `POST /drafts/clear` ({"token"}) empties it. Neither is activity: saving as one types does not keep a session
  alive (app/identity/sessions.py QUIET_ENDPOINTS); only the idle warning's "Stay signed in" does.
- `GET /session/status` says how long the session has left (also not activity); `POST /session/stay` is the
  activity that keeps it.
- A form sent successfully (a redirect) gives its draft up; one refused (409, 422) keeps what was posted.
- A form posted (or a save sent) after the session ended is kept as the draft of the user who was signed in only
  when its token names that user and the very session that ended in this browser (the signed session cookie keeps
  the ended session's id until the next sign-in): a token alone, or a cookie alone, is not enough. Then the sign-in
  page returns to the form, and the words are back in it. Nothing is sent on anyone's behalf: the words wait in the
  form for the user to check. Anything else posted after the end is refused as before.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from app.drafts import use_cases as drafts
from app.extensions import appbuilder, db
from app.identity import sessions
from app.kernel import formats
from app.kernel.errors import InvalidData
from app.models import utcnow

log = logging.getLogger(__name__)

blueprint = Blueprint("drafts", __name__)
SALT = "draft-token"
KEPT = ("What you typed is kept: sign in again and it will be back in the form, for you to check and send. "
        "Nothing was sent.")
SIGNED_OUT = "You were signed out."
STALE = ("That page was opened before you last signed in, so it was not sent. What you typed is back in the form: "
         "check it and send it again.")


# --- the token ---------------------------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user_id: int, form_key: str) -> str:
    return _serializer().dumps({"u": user_id, "k": form_key, "s": session.get(sessions.SESSION_ID),
                                "i": secrets.token_hex(16)})


def read_token(token: Any) -> dict | None:
    """The token's claims, when it is ours, unaltered and younger than DRAFT_HOURS; else None."""
    if not isinstance(token, str) or len(token) > 1000:
        return None
    try:
        claims = _serializer().loads(token, max_age=current_app.config["DRAFT_HOURS"] * 3600)
    except BadData:
        return None
    valid = isinstance(claims, dict) and isinstance(claims.get("u"), int) and isinstance(claims.get("i"), str) \
        and isinstance(claims.get("k"), str) and drafts.valid_key(claims["k"])
    return claims if valid else None


def page_of(form_key: str) -> str:
    """The page that shows the form: where the user goes back to."""
    case_id = drafts.case_of(form_key)
    if case_id and form_key.endswith(":referral_form"):  # a page of its own (app/cases/referral_pages.py)
        return url_for("ReferralFormView.edit", pk=case_id)
    return url_for("CaseView.show", pk=case_id) if case_id else url_for("ConcernView.new")


# --- the form's field ----------------------------------------------------------------------------------------------

def _my_drafts() -> dict:
    if "drafts" not in g:
        g.drafts = drafts.drafts_of(db.session, current_user.id)
    return g.drafts


def draft_field(form_key: str, restore: bool = True) -> Markup:
    """The hidden field that lets a form keep a draft: put it inside the form. With `restore`, the draft saved
    before goes with it for the page's script to put back (leave it out when the page shows what was just posted)."""
    if not current_user.is_authenticated or not drafts.valid_key(form_key):
        return Markup("")
    attributes = {"type": "hidden", "name": "draft_token", "value": make_token(current_user.id, form_key),
                  "data-draft-page": page_of(form_key)}
    saved = _my_drafts().get(form_key) if restore else None
    if saved is not None:
        attributes["data-draft-saved"] = json.dumps({"fields": saved.fields,
                                                     "saved_at": formats.uk_datetime(saved.updated_at)})
    return Markup("<input {}>").format(Markup(" ").join(Markup('{}="{}"').format(name, escape(value))
                                                         for name, value in attributes.items()))


def _posted(name: str) -> str | None:
    """A field of the posted form; None when there is no form to read (or it is too large to read: 413)."""
    try:
        return request.form.get(name)
    except HTTPException:
        return None


def _posted_fields() -> dict:
    return {name: values[0] if len(values) == 1 else values for name, values in request.form.lists()}


# --- the browser's requests -----------------------------------------------------------------------------------------

def _json_body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _claims_for_current_user():
    """The posted token's claims, if it is the signed-in user's; else the refusal to answer."""
    if not current_user.is_authenticated:
        return None, (jsonify(signed_in=False, message="Sign in again to continue."), 401)
    claims = read_token(_json_body().get("token"))
    if claims is None:
        return None, (jsonify(message="This form cannot keep a draft: reload the page."), 400)
    if claims["u"] != current_user.id:
        return None, (jsonify(message="This is not your form."), 403)
    return claims, None


@blueprint.route("/drafts/save", methods=["POST"])
def save():
    claims, refusal = _claims_for_current_user()
    if refusal:
        return refusal
    try:
        kept = drafts.keep(claims["u"], claims["k"], claims["i"], _json_body().get("fields"))
    except InvalidData as exc:
        return jsonify(message=exc.errors), 422
    return jsonify(saved=kept, saved_at=formats.uk_datetime(utcnow()) if kept else None)


@blueprint.route("/drafts/clear", methods=["POST"])
def clear():
    claims, refusal = _claims_for_current_user()
    if refusal:
        return refusal
    drafts.give_up(claims["u"], claims["k"], claims["i"], sent=False)
    return jsonify(cleared=True)


def _status():
    if not current_user.is_authenticated:
        return jsonify(signed_in=False), 401
    config, now = current_app.config, int(time.time())
    idle_left = config["SESSION_IDLE_MINUTES"] * 60 - (now - session.get(sessions.SEEN_AT, 0))
    max_left = config["SESSION_MAX_HOURS"] * 3600 - (now - session.get(sessions.SIGNED_IN_AT, 0))
    return jsonify(signed_in=True, seconds_left=max(0, int(min(idle_left, max_left))),
                   warn_seconds=config["SESSION_IDLE_WARNING_SECONDS"], can_stay=idle_left < max_left,
                   sign_out_url=url_for(f"{appbuilder.sm.auth_view.endpoint}.logout"))


@blueprint.route("/session/status")
def status():
    """How long the session has left; asking is not activity."""
    return _status()


@blueprint.route("/session/stay", methods=["POST"])
def stay():
    """"Stay signed in": a request like any other, so the session's idle time starts again."""
    return _status()


# --- forms posted, before and after the session ended ---------------------------------------------------------------

def keep_after_end(ended: dict, reason: str | None):
    """A form (or a save) posted from a page of a session that has ended: kept as that user's draft when its token
    names the same user and session; the sign-in page then returns to the form. Else None (refused as before)."""
    if request.method != "POST" or request.endpoint == "drafts.clear":
        return None
    saving = request.endpoint == "drafts.save"
    claims = read_token(_json_body().get("token") if saving else _posted("draft_token"))
    if claims is None or not ended.get("id") or claims["s"] != ended["id"] or claims["u"] != ended.get("user"):
        return None
    try:
        drafts.keep(claims["u"], claims["k"], claims["i"], _json_body().get("fields") if saving else _posted_fields())
    except InvalidData:
        return None
    if saving:
        if reason:  # for the sign-in page the browser goes to next
            flash(reason, "info")
        return jsonify(signed_in=False, saved=True, message=reason or SIGNED_OUT), 401
    flash(reason or SIGNED_OUT, "info")
    flash(KEPT, "info")
    return redirect(url_for(f"{appbuilder.sm.auth_view.endpoint}.login", next=page_of(claims["k"])))


def _stale_form() -> bool:
    """The form's CSRF token is not this session's: a page left open from an earlier session of the same user."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return True
    return False


def _to_signing_in(response) -> bool:
    """Sent to the sign-in page or the second step, not on from a form that was sent."""
    path = urlparse(response.location or "").path
    return path.startswith((url_for(f"{appbuilder.sm.auth_view.endpoint}.login"), "/two-step/"))


def after_form_post(response):
    """A form that keeps a draft, posted by its signed-in user: sent (a redirect), its draft is given up; refused
    (409, 422), what was posted is the draft. Refused because the page is from an earlier session of this user (the
    user signed in again in another tab while this one was open: its CSRF token is stale), what was posted is kept
    and the user is taken back to the form with it. (After the use case's own commit: a failure here loses no
    record.)"""
    if request.method != "POST" or request.blueprint == blueprint.name or response.status_code == 413 or \
            not _posted("draft_token") or not current_user.is_authenticated:
        return response
    claims = read_token(request.form.get("draft_token"))
    if claims is None or claims["u"] != current_user.id:
        return response
    try:
        if response.status_code in (301, 302, 303) and not _to_signing_in(response):
            drafts.give_up(claims["u"], claims["k"], claims["i"], sent=True)
        elif response.status_code in (409, 422):
            drafts.keep(claims["u"], claims["k"], claims["i"], _posted_fields())
        elif response.status_code == 400 and _stale_form():
            drafts.keep(claims["u"], claims["k"], claims["i"], _posted_fields())
            flash(STALE, "info")
            return redirect(page_of(claims["k"]))
    except (SQLAlchemyError, InvalidData):
        log.exception("The draft of %s was not updated after the form was posted", claims["k"])
    return response


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
    sessions.QUIET_ENDPOINTS.update({"drafts.save", "drafts.clear", "drafts.status"})
    sessions.SESSION_ENDED_HANDLERS.append(keep_after_end)
    app.after_request(after_form_post)
    app.jinja_env.globals.update(draft_field=draft_field)
