"""Brute force on the sign-ins (the web page and the API): rate limits and lockout, with one answer for every failure.

Rate limits (Flask-Limiter, FAB's instance; storage from RATELIMIT_STORAGE_URI: memory for one process, Redis so
that they hold across workers): failed sign-ins per client address and per username, the web and the API counted
together. Only failures count, so that colleagues behind one address can all sign in at nine o'clock. A username
counts whether or not such a user exists, so a refusal tells nothing about who has an account.

The second step (a code, app/identity/two_step.py) is part of the same sign-in: a wrong code is a failed sign-in, its
page has the same two rate limits (the same counts: per address, and per username), and it is refused while the
account is locked.

Lockout (in the database, so it holds across workers): every LOCKOUT_THRESHOLD failed sign-ins in a row, wrong
passwords and wrong codes together, lock the account for LOCKOUT_MINUTES; during that time even the right password
and the right code do not sign in. Each failure, the lock and each refused attempt on a locked account are audited.
Only a completed sign-in (the password, and the code for those who have a second step) resets the count, so that
signing in again with a known password buys no new guesses at the code.

The answer is the same for an unknown user, a wrong password and a locked account (FAB's "Invalid login" message on
the page, 401 on the API), and takes about as long: every path checks one password hash, writes an audit event and
commits once.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_appbuilder.security.sqla.models import User
from flask_login import current_user
from werkzeug.security import check_password_hash

from app.extensions import appbuilder, db
from app.kernel import audit
from app.kernel.uow import unit_of_work
from app.models import AccountState, utcnow

# The sign-in forms, wherever the views that serve them come from, and the web sign-in's second step.
SIGN_IN_PATHS = ("/login/", "/api/v1/security/login")
SECOND_STEP_PATH = "/two-step/verify"


def _failed(response) -> bool:
    return bool(g.get("sign_in_failed"))


def _limits_off() -> bool:
    return not current_app.config["SIGN_IN_RATE_LIMITED"]


def _username_key() -> str:
    payload = request.get_json(silent=True) if request.is_json else request.form
    name = payload.get("username") if hasattr(payload, "get") else None
    return "username:" + (name.strip().lower() if isinstance(name, str) else "")


def _signing_in_user_key() -> str:
    # The second step's user, counted under their username as at the first step: one count per person.
    return "username:" + (current_user.username.lower() if current_user.is_authenticated else "")


def register(app: Flask) -> None:
    """Puts both rate limits on every sign-in route and on the second step. Limits and the switch are read at each
    request."""
    limiter = appbuilder.sm.limiter
    common = dict(methods=["POST"], exempt_when=_limits_off, deduct_when=_failed)
    per_address = limiter.shared_limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], "sign-in-address",
                                       **common)

    def per_user(key_func):
        return limiter.shared_limit(lambda: current_app.config["SIGN_IN_USERNAME_RATE_LIMIT"], "sign-in-username",
                                    key_func=key_func, **common)

    per_user_of = {**dict.fromkeys(SIGN_IN_PATHS, per_user(_username_key)),
                   SECOND_STEP_PATH: per_user(_signing_in_user_key)}
    limited = 0
    for rule in app.url_map.iter_rules():
        if rule.rule in per_user_of:
            view = app.view_functions[rule.endpoint]
            app.view_functions[rule.endpoint] = per_user_of[rule.rule](per_address(view))
            limited += 1
    if limited != len(per_user_of):
        raise RuntimeError("A sign-in route was not found: it would have no rate limit.")


# --- lockout ------------------------------------------------------------------------------------------------------

def _locked_user(who: sa.ColumnElement[bool]) -> User | None:
    """The active user matching `who`, if their account is locked now."""
    found = db.session.execute(
        sa.select(User, AccountState.locked_until).join(AccountState, AccountState.user_id == User.id)
        .where(who, User.active.is_(True))
    ).first()
    if found is None or found.locked_until is None or found.locked_until <= utcnow():
        return None
    return found.User


def _refuse(locked: User) -> None:
    with unit_of_work("account") as session:
        audit.record(session, locked, "sign_in_refused", locked,
                     reason="Sign-in refused: the account is locked after repeated failed sign-ins.")
    g.sign_in_failed = True


def authenticate(username: str, password: str, check: Callable[[str, str], User | None]) -> User | None:
    """FAB's password check (`check`), refused outright while the account is locked."""
    locked = _locked_user(sa.or_(User.username == username, User.email == username)) if username else None
    if locked is not None:
        # The same work as a wrong password: one hash check and one audited write.
        check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], password or "")
        _refuse(locked)
        return None
    user = check(username, password)
    g.sign_in_failed = user is None
    return user


def refused_while_locked(user: User) -> bool:
    """At the second step: whether the account is locked, in which case the attempt is refused (audited) without
    looking at the code, so that a sign-in begun before the lock gets no more guesses than a new one."""
    locked = _locked_user(User.id == user.id)
    if locked is not None:
        _refuse(locked)
    return locked is not None


def unknown_name(some_user: User) -> None:
    """FAB's answer to a name with no active account (it checks a dummy password hash, then calls this on its first
    user to balance the work): the same writes as a wrong password, an update of a user row and an audit event in
    one commit, so that the answer takes as long. The name typed is not kept (it may be a password typed in the
    wrong box); `some_user` is not the subject of the event."""
    g.sign_in_failed = True
    with unit_of_work("account") as session:
        session.execute(sa.update(User).where(User.id == some_user.id)
                        .values(fail_login_count=User.fail_login_count))
        audit.record(session, "anonymous", "sign_in_failed", User(),
                     reason="Sign-in under a name that has no active account.")


def record_failure(user: User, reason: str = "Wrong password.") -> bool:
    """Counts a failed sign-in (in SQL, so that attempts at several workers all count), and locks the account at
    every LOCKOUT_THRESHOLD-th failure in a row: True when this failure locked it. Audited. A wrong second-step code
    counts too (app/identity/two_step.py), so that a guessed or stolen password does not buy unlimited guesses at the
    code."""
    g.sign_in_failed = True
    config = current_app.config
    with unit_of_work("account") as session:
        count = session.execute(
            sa.update(User).where(User.id == user.id)
            .values(fail_login_count=sa.func.coalesce(User.fail_login_count, 0) + 1)
            .returning(User.fail_login_count)
        ).scalar_one()
        audit.record(session, user, "sign_in_failed", user, reason=reason,
                     extra_changes={"fail_login_count": (count - 1, count)})
        threshold = config["LOCKOUT_THRESHOLD"]
        locks = bool(threshold) and count % threshold == 0
        if locks:
            state = session.get(AccountState, user.id) or AccountState(user_id=user.id, session_version=0)
            session.add(state)
            state.locked_until = utcnow() + timedelta(minutes=config["LOCKOUT_MINUTES"])
            audit.record(session, user, "account_locked", user,
                         reason=f"{count} failed sign-ins in a row: locked for {config['LOCKOUT_MINUTES']} minutes.",
                         extra_changes={"locked_until": (None, state.locked_until)})
    return locks


def clear_lock(user: User) -> None:
    """A completed sign-in ends any expired lock (FAB resets the failure count in the same commit)."""
    state = db.session.get(AccountState, user.id)
    if state is not None and state.locked_until is not None:
        state.locked_until = None
