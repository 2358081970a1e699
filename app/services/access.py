"""Need-to-know on restricted cases: the Prevent Lead grants an officer access to a concern about a colleague."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.errors import Conflict, Forbidden, NotFound
from app.models import Case, CaseAccessGrant, User
from app.security import CaseAccess, can, case_access, case_workers
from app.services.cases import add_entry, load_case_for_work
from app.services.uow import unit_of_work
from app.validation import Form, parse_int, text_parser

REASON_MAX = 2_000


def grant_candidates(session: Session, case: Case) -> list[User]:
    """Officers who cannot see this restricted case yet."""
    return [person for person in case_workers(session)
            if case_access(session, person, case.id) is not CaseAccess.FULL]


def granted_users(session: Session, case_id: int) -> list[User]:
    return session.scalars(sa.select(User).join(CaseAccessGrant, CaseAccessGrant.user_id == User.id)
                           .where(CaseAccessGrant.case_id == case_id).order_by(User.first_name)).all()


def _grant_form(session: Session, payload: Any) -> tuple[User, str]:
    form = Form(payload)
    user_id = form.field("user_id", parse_int)
    reason = form.field("reason", text_parser(REASON_MAX))
    person = session.get(User, user_id) if user_id is not None else None
    if user_id is not None and (person is None or not person.is_active or not can(person, "can_read_all")):
        form.error("user_id", "Choose a Safeguarding Officer.")
    form.check()
    return person, reason


def grant_access(actor, case_id: int, payload: Any) -> CaseAccessGrant:
    if not can(actor, "can_grant_access"):
        raise Forbidden()
    with unit_of_work() as session:
        case = load_case_for_work(session, actor, case_id)
        person, reason = _grant_form(session, payload)
        if not case.restricted:
            raise Conflict("This case is not restricted: every officer can see it already.", case.status.value)
        if session.get(CaseAccessGrant, (case.id, person.id)) is not None:
            raise Conflict(f"{person.username} has access already.", case.status.value)
        grant = CaseAccessGrant(case_id=case.id, user_id=person.id, granted_by_id=actor.id)
        session.add(grant)
        session.flush()
        audit.record(session, actor, "grant_access", grant, reason=reason)
        add_entry(session, case, actor, "access_granted", f"Access granted to {person.username}", reason=reason)
        return grant


def revoke_access(actor, case_id: int, user_id: int, payload: Any) -> None:
    if not can(actor, "can_grant_access"):
        raise Forbidden()
    with unit_of_work() as session:
        case = load_case_for_work(session, actor, case_id)
        grant = session.get(CaseAccessGrant, (case.id, user_id))
        if grant is None:
            raise NotFound("access grant")
        form = Form(payload)
        reason = form.field("reason", text_parser(REASON_MAX))
        form.check()
        username = session.get(User, user_id).username
        audit.record(session, actor, "revoke_access", grant, reason=reason,
                     extra_changes={"user_id": (user_id, None)})
        session.delete(grant)
        add_entry(session, case, actor, "access_revoked", f"Access withdrawn from {username}", reason=reason)
