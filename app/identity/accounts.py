"""Users and roles: who may change them, and the trail every change leaves.

Separation of duties, so that no one person can give themselves (or a friend) access to case data:

- Nobody changes their own roles.
- The roles that open cases (Prevent Lead, Safeguarding Officer) are given only when a second person approves an
  Admin's request: another Admin or the Prevent Lead, never the one who asked and never the one it is for. The one
  exception is the break-glass Admin account named in BREAK_GLASS_ADMIN, which gives them directly (still audited,
  and the Lead is told).
- Roles and their permissions are the matrix in code (app/kernel/security.py), put in place by `flask prevent
  sync-roles`: nothing served over HTTP changes them.
- Every change to a user (created, edited, deactivated, password reset by someone else) and every grant asked for,
  approved or declined is an audit event with who, what and why, and an email to the Prevent Lead(s).

The use cases below apply the rules with plain messages. `_hold_the_rules`, a flush-time guard, applies the same
rules to every change made while serving a request, whatever path makes it (FAB's pages, FAB's security REST API,
ours), and marks each such change of a user as one that cannot commit without its audit event. Outside a request
(the CLI, set-up, tests) the operator on the server is trusted, as with the database itself.
"""
from __future__ import annotations

import getpass
from collections.abc import Sequence
from typing import Any, TypeAlias

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_appbuilder.security.sqla.models import Group, Permission, PermissionView, Role, User, ViewMenu
from sqlalchemy import event
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from app.identity.passwords import check_password
from app.identity.schemas import REASON
from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import ADMIN, LEAD, OFFICER, can
from app.kernel.uow import unit_of_work
from app.models import AuditEvent, RoleGrantRequest, RoleGrantStatus, utcnow
from app.notifications import notify

# Roles that open case data, and the Admin's (who could otherwise approve through a second account of their own):
# given only with a second person's approval.
APPROVAL_ROLES = frozenset({LEAD, OFFICER, ADMIN})
# Changes to these columns of a user are audited; logins (counts, times) are not changes anyone makes.
AUDITED_USER_COLUMNS = ("username", "email", "active", "password", "first_name", "last_name")
ACCOUNT_ENTITIES = ("User", "Role", "RoleGrantRequest")
_CLEARED = "accounts_cleared_grants"  # session.info: (id(user), role name) pairs a use case has cleared

OWN_ROLES = "You cannot change your own roles. Ask another Admin."
NEEDS_APPROVAL = ("The Prevent Lead, Safeguarding Officer and Admin roles are given only when a second person "
                  "approves: ask for them by editing the user, then another Admin or the Prevent Lead approves.")
ROLES_IN_CODE = ("Roles and their permissions are set in the application's code and put in place by `flask prevent "
                 "sync-roles`. They cannot be changed here.")
SIGN_IN = "Sign in as an Admin to change someone's roles."
NO_GROUPS = "Groups are not used here. Give the person a role instead."


class AccountChangeRefused(Forbidden):
    """A change to users or roles that separation of duties does not allow. The message is fit for the user."""


Actor: TypeAlias = User | str  # a signed-in user, or a process or operator named as "cli:<name>"


def command_line_actor() -> str:
    return f"cli:{getpass.getuser()}"


def _reason(text: Any) -> str:
    return REASON.check({"reason": text})["reason"]


def _is_break_glass_admin(actor: Actor) -> bool:
    name = current_app.config.get("BREAK_GLASS_ADMIN")
    return bool(name) and not isinstance(actor, str) and actor.username == name and \
        any(role.name == ADMIN for role in actor.roles)


def _refusal(session: Session, actor: Actor | None, person: User, added: list[Role]) -> str | None:
    """Why `actor` may not change `person`'s roles, adding `added`, or None when they may: the one statement of the
    rules, used by the use cases and by the guard."""
    if actor is None:
        return SIGN_IN
    if not isinstance(actor, str) and person.id is not None and actor.id == person.id:
        return OWN_ROLES
    cleared = session.info.get(_CLEARED, set())
    if any(role.name in APPROVAL_ROLES and (id(person), role.name) not in cleared for role in added):
        return NEEDS_APPROVAL
    return None


def _clear(session: Session, person: User, role: Role) -> None:
    session.info.setdefault(_CLEARED, set()).add((id(person), role.name))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_clearances(session: Session) -> None:
    # A clearance holds for the transaction of the use case that gave it, no longer.
    session.info.pop(_CLEARED, None)


def _role_names(roles) -> list[str]:
    return sorted(role.name for role in roles)


def _roles_before(person: User) -> list[Role]:
    history = sa.inspect(person).attrs.roles.history
    return list(history.unchanged or ()) + list(history.deleted or ())


# --- users ----------------------------------------------------------------------------------------------------

def save_user(actor: User, person: User, reason: Any, *, created: bool) -> list[RoleGrantRequest]:
    """Saves a user as the Admin's form left it (FAB's user pages fill `person`). A role that needs approval is not
    given: a request for it waits for a second person instead, and is returned."""
    if not can(actor, "can_add" if created else "can_edit", "UserDBModelView"):
        raise Forbidden()
    with unit_of_work("user") as session:
        reason = _reason(reason)
        if created:
            session.add(person)
        with session.no_autoflush:  # the changes as the form made them, until the audit records them
            return _save(session, actor, person, reason, created)


def _save(session: Session, actor: User, person: User, reason: str, created: bool) -> list[RoleGrantRequest]:
    before = [] if created else _roles_before(person)
    added = [role for role in person.roles if role not in before]
    removed = [role for role in before if role not in person.roles]
    if (added or removed) and (refusal := _refusal(session, actor, person, [])):
        raise AccountChangeRefused(refusal)
    direct = _is_break_glass_admin(actor)
    waiting = [] if direct else [role for role in added if role.name in APPROVAL_ROLES]
    for role in added:
        if role in waiting:
            person.roles.remove(role)
        else:
            _clear(session, person, role)
    changes: dict[str, tuple] = {}
    if _role_names(before) != _role_names(person.roles):
        changes["roles"] = (_role_names(before), _role_names(person.roles))
        if direct and any(role.name in APPROVAL_ROLES for role in added):
            changes["given_by_break_glass_admin"] = (None, True)
    active = sa.inspect(person).attrs.active.history
    action = "user_created" if created else (
        "user_deactivated" if active.has_changes() and not person.active else "user_updated")
    email = sa.inspect(person).attrs.email.history
    audit.record(session, actor, action, person, reason=reason, extra_changes=changes)
    notify.account_changed(session, _WORDS[action])
    if email.deleted and email.deleted[0] != person.email:  # the person hears at the address they had
        notify.own_account_changed(session, email.deleted[0], "The email address of your account was changed.")
    session.flush()  # the new user's id, for the requests
    return [_request_grant(session, actor, person, role, reason) for role in waiting]


_WORDS = {
    "user_created": "An Admin added a user account.",
    "user_updated": "An Admin changed a user account.",
    "user_deactivated": "An Admin deactivated a user account.",
    "password_reset": "An Admin reset someone's password.",
    "role_grant_requested": "An Admin asks for the Prevent Lead, Safeguarding Officer or Admin role to be given to "
                            "someone: it needs a second person's approval.",
    "role_grant_approved": "The Prevent Lead, Safeguarding Officer or Admin role was given to someone, with a second "
                           "person's approval.",
    "role_grant_declined": "A request for the Prevent Lead, Safeguarding Officer or Admin role was declined.",
}


def _request_grant(session: Session, actor: User, person: User, role: Role, reason: str) -> RoleGrantRequest:
    pending = session.scalar(sa.select(RoleGrantRequest).where(
        RoleGrantRequest.user_id == person.id, RoleGrantRequest.role_id == role.id,
        RoleGrantRequest.status == RoleGrantStatus.pending))
    if pending is not None:
        return pending
    grant = RoleGrantRequest(user_id=person.id, role_id=role.id, reason=reason, requested_by_id=actor.id,
                             requested_at=utcnow(), status=RoleGrantStatus.pending)
    session.add(grant)
    audit.record(session, actor, "role_grant_requested", grant, reason=reason,
                 extra_changes={"role": (None, role.name), "user": (None, person.username)})
    notify.account_changed(session, _WORDS["role_grant_requested"])
    return grant


def set_password(actor: Actor, user_id: int, password: str, reason: Any = None) -> User:
    """A new password: one's own (no reason needed), someone else's by an Admin (with the reason; the Lead is told),
    or anyone's from the command line (FAB's `reset-password`)."""
    check_password(password)
    with unit_of_work("user") as session:
        person = session.get(User, user_id)
        if person is None:
            raise NotFound("user")
        own = not isinstance(actor, str) and actor.id == person.id
        by_admin = not own and not isinstance(actor, str)
        if by_admin:
            if not can(actor, "resetpasswords", "UserDBModelView"):
                raise Forbidden()
            reason = _reason(reason)
        person.password = generate_password_hash(
            password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
            salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))
        audit.record(session, actor, "password_changed" if own else "password_reset", person, reason=reason or None)
        if by_admin:
            notify.account_changed(session, _WORDS["password_reset"])
            notify.own_account_changed(session, person.email, "An Admin set a new password for your account.")
        return person


def edit_own_details(actor: User, details: dict[str, str]) -> User:
    """One's own first and last name (FAB's "Edit User" page)."""
    with unit_of_work("user") as session:
        person = session.get_one(User, actor.id)
        person.first_name, person.last_name = details["first_name"], details["last_name"]
        audit.record(session, actor, "user_details_changed", person)
        return person


# --- role grants ----------------------------------------------------------------------------------------------

def pending_grants(session: Session, actor: User) -> Sequence[RoleGrantRequest]:
    if not can(actor, "can_read", "RoleGrant"):
        raise Forbidden()
    return session.scalars(sa.select(RoleGrantRequest).where(RoleGrantRequest.status == RoleGrantStatus.pending)
                           .options(selectinload(RoleGrantRequest.user), selectinload(RoleGrantRequest.role),
                                    selectinload(RoleGrantRequest.requested_by))
                           .order_by(RoleGrantRequest.requested_at, RoleGrantRequest.id)).all()


def recent_changes(session: Session, actor: User, limit: int = 50) -> Sequence[AuditEvent]:
    """The latest audit events about users and role grants: who did what, to whom, and why."""
    if not can(actor, "can_read", "RoleGrant"):
        raise Forbidden()
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type.in_(ACCOUNT_ENTITIES))
                           .order_by(AuditEvent.seq.desc()).limit(limit)).all()


def _not_a_second_person(actor: User, grant: RoleGrantRequest) -> str | None:
    """Why the actor may not decide this request (a second person decides: not the one who asked, not the one it is
    for), or None."""
    if actor.id == grant.requested_by_id:
        return "You asked for this role yourself: a second person must decide."
    if actor.id == grant.user_id:
        return "This role is for you: someone else must decide."
    return None


def may_decide(actor: User, grant: RoleGrantRequest) -> bool:
    return can(actor, "can_approve", "RoleGrant") and _not_a_second_person(actor, grant) is None


def _decide(session: Session, actor: User, grant_id: int, payload: Any) -> tuple[RoleGrantRequest, str]:
    if not can(actor, "can_approve", "RoleGrant"):
        raise Forbidden()
    # Decided once, even when two people press at the same moment: the second waits, then finds it decided.
    grant = session.get(RoleGrantRequest, grant_id, with_for_update=True)
    if grant is None:
        raise NotFound("request")
    if grant.status is not RoleGrantStatus.pending:
        raise Conflict(f"This request was {grant.status.value} already.")
    if refusal := _not_a_second_person(actor, grant):
        raise AccountChangeRefused(refusal)
    reason = _reason(payload.get("reason") if isinstance(payload, dict) else None)
    return grant, reason


def approve_grant(actor: User, grant_id: int, payload: Any) -> RoleGrantRequest:
    with unit_of_work("request") as session:
        grant, reason = _decide(session, actor, grant_id, payload)
        person, role = grant.user, grant.role
        before = _role_names(person.roles)
        grant.status, grant.decided_by_id, grant.decided_at, grant.decision_reason = \
            RoleGrantStatus.approved, actor.id, utcnow(), reason
        audit.record(session, actor, "role_grant_approved", grant, reason=reason)
        if role not in person.roles:
            _clear(session, person, role)
            person.roles.append(role)
            audit.record(session, actor, "user_roles_changed", person, reason=f"Approved request {grant.id}: {reason}",
                         extra_changes={"roles": (before, _role_names(person.roles))})
        notify.account_changed(session, _WORDS["role_grant_approved"])
        return grant


def decline_grant(actor: User, grant_id: int, payload: Any) -> RoleGrantRequest:
    with unit_of_work("request") as session:
        grant, reason = _decide(session, actor, grant_id, payload)
        grant.status, grant.decided_by_id, grant.decided_at, grant.decision_reason = \
            RoleGrantStatus.declined, actor.id, utcnow(), reason
        audit.record(session, actor, "role_grant_declined", grant, reason=reason)
        notify.account_changed(session, _WORDS["role_grant_declined"])
        return grant


# --- the guard ------------------------------------------------------------------------------------------------

_SET_IN_CODE = {Role: ("permissions",), Group: ("roles", "users"), Permission: (), ViewMenu: (), PermissionView: ()}


def _changed(session: Session, obj: Any, relationships: tuple[str, ...]) -> bool:
    if obj in session.new or obj in session.deleted:
        return True
    attrs = sa.inspect(obj).attrs
    columns = [attr.key for attr in sa.inspect(obj).mapper.column_attrs]
    return any(attrs[name].history.has_changes() for name in (*columns, *relationships))


@event.listens_for(Session, "before_flush")
def _hold_the_rules(session: Session, flush_context, instances) -> None:
    if not has_request_context():
        return
    user = g.get("user")
    actor = user if getattr(user, "is_authenticated", False) else None
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        relationships = _SET_IN_CODE.get(type(obj))
        if relationships is not None and _changed(session, obj, relationships):
            raise AccountChangeRefused(ROLES_IN_CODE)
        if not isinstance(obj, User):
            continue
        attrs = sa.inspect(obj).attrs
        if attrs.groups.history.has_changes():
            raise AccountChangeRefused(NO_GROUPS)
        roles = attrs.roles.history
        if roles.has_changes():
            refusal = _refusal(session, actor, obj, list(roles.added or ()))
            if refusal:
                raise AccountChangeRefused(refusal)
        if roles.has_changes() or obj in session.new or obj in session.deleted or \
                any(attrs[name].history.has_changes() for name in AUDITED_USER_COLUMNS):
            audit.require(session, obj)
