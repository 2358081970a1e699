"""Two-step sign-in: enrolment, codes accepted once only, recovery codes, and the Admin's reset.

TOTP (RFC 6238: 30-second steps, 6 digits) with pyotp. A code from the step just before or after the current one is
accepted too (phone clocks drift), and only when its step is later than the last step accepted for that user: the
update that records it is conditional, so a code works once even when two requests race with it.

A verified web session and a token from the API sign-in carry the enrolment's `stamp`: after a reset (and a new
enrolment) neither matches any more, so the second factor is asked again at once.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard, cast

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.extensions import appbuilder
from app.identity import sign_in
from app.identity.schemas import CODE, REASON
from app.identity.security_api import MFA_CLAIM
from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound
from app.kernel.security import can, mfa_required
from app.kernel.uow import unit_of_work
from app.models import AccountState, RecoveryCode, SecondFactor, User, utcnow

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 random bits, shown as four groups of four base32 characters
TOTP_CODE = re.compile(r"\d{6}")
# Letters and digits a person may type for the base32 characters they look like.
LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
WRONG_CODE_AUDITED = "Wrong second-step code."
WRONG_CODE = "That code is not right, or it has been used already. Enter the code your authenticator app shows now."


class SecondFactorRefused(Exception):
    """No second factor, or a wrong or used code. The message is fit for the user."""


class SignInLocked(SecondFactorRefused):
    """The account is locked after repeated failed sign-ins (app/identity/sign_in.py): the half-done web sign-in
    ends."""


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth:// URI, for the QR code


def _cipher() -> Fernet:
    """TOTP secrets are kept encrypted, so that a copy of the database gives nobody codes. The key is derived from
    SECRET_KEY and never stored: changing SECRET_KEY means everyone with a second factor sets it up again."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"prevent-casework: TOTP secrets") \
        .derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal_secret(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def open_secret(sealed: str) -> str:
    try:
        return _cipher().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecondFactorRefused("Your two-step sign-in cannot be read since the server's key changed. Ask the Admin "
                                  "to reset it, then set it up again.") from None


def second_factor(session: Session, user) -> SecondFactor | None:
    return session.get(SecondFactor, user.id)


def is_enrolled(factor: SecondFactor | None) -> TypeGuard[SecondFactor]:
    return factor is not None and factor.enrolled_at is not None


def needs_second_factor(user, factor: SecondFactor | None) -> bool:
    """Those who must use it, and anyone who set it up of their own accord."""
    return mfa_required(user) or is_enrolled(factor)


def stamp(factor: SecondFactor) -> str:
    """Names one enrolment: what a verified session and a token carry."""
    assert factor.enrolled_at is not None  # only a finished enrolment is stamped
    return f"{factor.user_id}:{factor.enrolled_at.isoformat()}"


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalised_recovery_code(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text).upper().translate(LOOKALIKES)


def _new_recovery_codes(session: Session, user) -> list[str]:
    """A new set, replacing any earlier one; the codes themselves are returned once and never stored."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return ["-".join(code[i:i + 4] for i in range(0, len(code), 4)) for code in codes]


def _account(session: Session, user) -> User:
    """The user's row, as the audited entity (the signed-in user is often Flask-Login's proxy, not the row)."""
    return session.get(User, user.id)


def _issuer() -> str:
    return current_app.config.get("APP_NAME", "Prevent Casework")


# --- enrolment ------------------------------------------------------------------------------------------------

def start_enrolment(user) -> Enrolment:
    """The secret to put in an authenticator app: the same one until it is confirmed, so a reload keeps the QR code."""
    with unit_of_work("second factor") as session:
        factor = second_factor(session, user)
        if is_enrolled(factor):
            raise Conflict("Two-step sign-in is set up already. An Admin can reset it if you lost your phone.")
        if factor is None:
            factor = SecondFactor(user_id=user.id, secret_sealed=seal_secret(pyotp.random_base32()))
            session.add(factor)
        secret = open_secret(factor.secret_sealed)
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=_issuer()))


def confirm_enrolment(user, payload: Any) -> tuple[str, list[str]]:
    """Turns the pending secret on once the user shows a code from it; returns the stamp and the recovery codes."""
    with unit_of_work("second factor") as session:
        factor = second_factor(session, user)
        if factor is None or is_enrolled(factor):
            raise Conflict("There is no set-up waiting to be confirmed. Open the set-up page again.")
        code = CODE.check(payload)["code"]
        step = _matching_step(open_secret(factor.secret_sealed), code.replace(" ", ""), utcnow())
        if step is None:
            raise InvalidData({"code": [WRONG_CODE]})
        factor.last_step = step
        factor.enrolled_at = utcnow()
        codes = _new_recovery_codes(session, user)
        audit.record(session, user, "mfa_enrolled", _account(session, user))
        verified = stamp(factor)
    appbuilder.sm.sign_in_completed(user)  # the code from the new enrolment was the sign-in's second step
    return verified, codes


def enrol_with_secret(user, secret: str, actor: str) -> None:
    """Enrols `user` with a known base32 secret, without codes to show: for demo data and tests only."""
    try:
        pyotp.TOTP(secret).now()
    except ValueError:
        raise ValueError("The TOTP secret must be base32 (letters A-Z and digits 2-7), such as pyotp.random_base32() "
                         "makes.") from None
    with unit_of_work("second factor") as session:
        factor = second_factor(session, user) or SecondFactor(user_id=user.id)
        factor.secret_sealed, factor.enrolled_at, factor.last_step = seal_secret(secret), utcnow(), None
        session.add(factor)
        session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        audit.record(session, actor, "mfa_enrolled", _account(session, user))


def renew_recovery_codes(user) -> list[str]:
    with unit_of_work("second factor") as session:
        if not is_enrolled(second_factor(session, user)):
            raise Conflict("Set up two-step sign-in first.")
        codes = _new_recovery_codes(session, user)
        audit.record(session, user, "mfa_recovery_codes_renewed", _account(session, user))
        return codes


def recovery_codes_left(session: Session, user) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(RecoveryCode)
                           .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


# --- checking a code ------------------------------------------------------------------------------------------

def _accept_step(session: Session, user_id: int, step: int) -> bool:
    accepted = cast(CursorResult, session.execute(  # an UPDATE's result, which counts its rows
        sa.update(SecondFactor)
        .where(SecondFactor.user_id == user_id, SecondFactor.enrolled_at.is_not(None),
               sa.or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step))
        .values(last_step=step)))
    return accepted.rowcount == 1


def _use_recovery_code(session: Session, user, code: str) -> bool:
    used = cast(CursorResult, session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())))
    if used.rowcount != 1:
        return False
    audit.record(session, user, "mfa_recovery_code_used", _account(session, user))
    return True


def _check(session: Session, user, code: Any) -> str | None:
    """The enrolment's stamp when `code` is a current unused TOTP code or an unused recovery code; else None."""
    factor = second_factor(session, user)
    if not is_enrolled(factor) or not isinstance(code, str):
        return None
    compact = code.replace(" ", "")
    if TOTP_CODE.fullmatch(compact):
        step = _matching_step(open_secret(factor.secret_sealed), compact, utcnow())
        accepted = step is not None and _accept_step(session, user.id, step)
    else:
        accepted = _use_recovery_code(session, user, _normalised_recovery_code(code))
    return stamp(factor) if accepted else None


def _locked_out() -> SignInLocked:
    return SignInLocked(f"You have been signed out after too many failed attempts to sign in. You can sign in again "
                        f"within {current_app.config['LOCKOUT_MINUTES']} minutes, or ask an Admin to lift the lock.")


def verify_sign_in(user, code: Any) -> str:
    """The web sign-in's second step: the stamp to mark the session with. A wrong code is a failed sign-in, counted
    with wrong passwords towards the lockout (app/identity/sign_in.py); SignInLocked while the account is locked,
    the code unread. A right code completes the sign-in, and the count of failures starts again."""
    if sign_in.refused_while_locked(user):
        raise _locked_out()
    with unit_of_work("second factor") as session:
        verified = _check(session, user, code)
    if verified is None:
        if sign_in.record_failure(user, WRONG_CODE_AUDITED):
            raise _locked_out()
        raise SecondFactorRefused(WRONG_CODE)
    appbuilder.sm.sign_in_completed(user)
    return verified


def api_sign_in_claims(user, code: Any) -> dict[str, str]:
    """The claims for the tokens of an API sign-in whose password was right: the second factor's stamp when the
    user needs one and `code` (the body's "totp") is good; SecondFactorRefused when they need one and it is not."""
    with unit_of_work("second factor") as session:
        factor = second_factor(session, user)
        if not needs_second_factor(user, factor):
            return {}
        if not is_enrolled(factor):
            raise SecondFactorRefused("This account must sign in with two-step sign-in, which is not set up yet. "
                                      "Sign in to the web app once to set it up, then send a code here as \"totp\".")
        if code is None or code == "":
            raise SecondFactorRefused("This account signs in with two steps: send the code your authenticator app "
                                      "shows now (or a recovery code) as \"totp\".")
        verified = _check(session, user, code)
    if verified is None:
        sign_in.record_failure(user, WRONG_CODE_AUDITED)
        raise SecondFactorRefused(WRONG_CODE)
    appbuilder.sm.sign_in_completed(user)
    return {MFA_CLAIM: verified}


# --- the Admin's sign-in help: reset a second factor, lift a lock ---------------------------------------------

@dataclass(frozen=True)
class UserSignIn:
    user: User
    required: bool
    enrolled_at: datetime | None
    locked_until: datetime | None  # only while the lock holds


def users_sign_in(session: Session, actor) -> list[UserSignIn]:
    if not can(actor, "can_reset", "TwoStepSignIn"):
        raise Forbidden()
    rows = session.execute(sa.select(User, SecondFactor.enrolled_at, AccountState.locked_until)
                           .outerjoin(SecondFactor, SecondFactor.user_id == User.id)
                           .outerjoin(AccountState, AccountState.user_id == User.id)
                           .order_by(User.first_name, User.last_name, User.id)).all()
    now = utcnow()
    return [UserSignIn(person, mfa_required(person), enrolled_at, locked if locked and locked > now else None)
            for person, enrolled_at, locked in rows]


def _sign_in_help(session: Session, actor, user_id: int, payload: Any) -> tuple[User, str]:
    """The Admin's help with someone's sign-in: who it is for, and the reason, which the audit trail needs."""
    if not can(actor, "can_reset", "TwoStepSignIn"):
        raise Forbidden()
    target = session.get(User, user_id)
    if target is None:
        raise NotFound("user")
    return target, REASON.check(payload)["reason"]


def lift_lock(actor, user_id: int, payload: Any) -> User:
    """Ends a lock from failed sign-ins before its time (someone locked out by another's guessing), with a reason,
    audited. The failure count starts again."""
    with unit_of_work("account") as session:
        target, reason = _sign_in_help(session, actor, user_id, payload)
        state = session.get(AccountState, user_id)
        if state is None or state.locked_until is None or state.locked_until <= utcnow():
            raise Conflict(f"{target.username} is not locked.")
        audit.record(session, actor, "account_unlocked", target, reason=reason,
                     extra_changes={"locked_until": (state.locked_until, None)})
        state.locked_until = None
        target.fail_login_count = 0
        return target


def _reset(session: Session, actor, target: User, reason: str) -> None:
    factor = second_factor(session, target)
    if factor is None:
        raise Conflict(f"{target.username} has no two-step sign-in to reset.")
    session.delete(factor)
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == target.id))
    audit.record(session, actor, "mfa_reset", target, reason=reason)


def reset_second_factor(actor, user_id: int, payload: Any) -> User:
    """Removes a user's secret and recovery codes (a lost phone): they set it up again at their next sign-in."""
    with unit_of_work("second factor") as session:
        target, reason = _sign_in_help(session, actor, user_id, payload)
        _reset(session, actor, target, reason)
        return target


def reset_from_command_line(operator: str, username: str, reason: str) -> None:
    """`flask mfa reset`: the same reset by someone with access to the server, named in the audit trail."""
    with unit_of_work("second factor") as session:
        target = session.scalar(sa.select(User).where(User.username == username))
        if target is None:
            raise NotFound("user")
        if not reason.strip():
            raise InvalidData({"reason": ["Give the reason for the reset."]})
        _reset(session, operator, target, reason.strip())
