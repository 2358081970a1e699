"""Need-to-know on restricted cases: the Prevent Lead grants an officer access to a concern about a colleague, and
breaks glass, saying why, to open one outside their own access."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.cases.schemas import BREAK_GLASS, GRANT, REVOKE
from app.cases.use_cases import add_entry, load_case_for_work
from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import CaseAccess, can, case_access, case_workers
from app.kernel.uow import unit_of_work
from app.models import BreakGlass, Case, CaseAccessGrant, User, parse_reference, utcnow
from app.notifications import notify


def grant_candidates(session: Session, case: Case) -> list[User]:
    """Officers who cannot see this restricted case yet."""
    return [person for person in case_workers(session)
            if case_access(session, person, case.id) is not CaseAccess.FULL]


def granted_users(session: Session, case_id: int) -> Sequence[User]:
    return session.scalars(sa.select(User).join(CaseAccessGrant, CaseAccessGrant.user_id == User.id)
                           .where(CaseAccessGrant.case_id == case_id).order_by(User.first_name)).all()


def _grant_form(session: Session, actor, payload: Any) -> tuple[User, str]:
    form = GRANT.read(payload)
    user_id, reason = form["user_id"], form["reason"]
    person = session.get(User, user_id) if user_id is not None else None
    if user_id is not None and (person is None or not person.is_active or not can(person, "can_read_all")):
        form.error("user_id", "Choose a Safeguarding Officer.")
    elif user_id == actor.id:
        # Else a Lead could turn a break glass, which ends, into lasting access of their own.
        form.error("user_id", "You cannot grant access to yourself: another Prevent Lead can.")
    form.check()
    return person, reason


def grant_access(actor, case_id: int, payload: Any) -> CaseAccessGrant:
    if not can(actor, "can_grant_access"):
        raise Forbidden()
    with unit_of_work() as session:
        case = load_case_for_work(session, actor, case_id)
        person, reason = _grant_form(session, actor, payload)
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
        reason = REVOKE.check(payload)["reason"]
        username = session.get_one(User, user_id).username
        audit.record(session, actor, "revoke_access", grant, reason=reason,
                     extra_changes={"user_id": (user_id, None)})
        session.delete(grant)
        add_entry(session, case, actor, "access_revoked", f"Access withdrawn from {username}", reason=reason)


# --- break glass: the Prevent Lead opens a restricted case outside their own access --------------------------------

def sealed_case(session: Session, actor, case_id: int) -> Case | None:
    """The restricted case the Lead may open only by breaking glass, or None (no such case, not restricted, not the
    Lead, or one they can open already). Only its reference and status are shown before the glass is broken."""
    if not can(actor, "can_break_glass"):
        return None
    case = session.get(Case, case_id)
    if case is None or not case.restricted or case_access(session, actor, case_id) is not CaseAccess.NONE:
        return None
    return case


def sealed_by_reference(session: Session, actor, search: str | None) -> Case | None:
    """The Lead who looks a restricted case up by its reference (the one way to find it: it is in no list of theirs
    until they may open it) is offered to break glass."""
    case_id = parse_reference(search or "")
    return None if case_id is None else sealed_case(session, actor, case_id)


def break_glass(actor, case_id: int, payload: Any) -> BreakGlass:
    """Access for BREAK_GLASS_HOURS to a restricted case the Lead was not given: the reason is required, audited in
    the chain, written in the chronology, and emailed (without content) to the others who work on the case."""
    if not can(actor, "can_break_glass"):
        raise Forbidden("Only the Prevent Lead may open a restricted case outside their access.")
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("case")
        if case_access(session, actor, case_id) is CaseAccess.FULL:
            raise Conflict("You can open this case already: there is no need to break glass.", case.status.value)
        reason = BREAK_GLASS.check(payload)["reason"]
        now = utcnow()
        opened = BreakGlass(case_id=case.id, user_id=actor.id, reason=reason, opened_at=now,
                            expires_at=now + timedelta(hours=current_app.config["BREAK_GLASS_HOURS"]))
        session.add(opened)
        session.flush()
        audit.record(session, actor, "break_glass", opened, reason=reason)
        add_entry(session, case, actor, "break_glass",
                  f"Opened by {actor.username} outside their access (break glass) until "
                  f"{opened.expires_at:%d %b %Y %H:%M} UTC", reason=reason)
        notify.glass_broken(session, case, actor)
        return opened


def broken_glass(session: Session, case_id: int) -> Sequence[BreakGlass]:
    """Every break glass on the case, newest first: the banner on the case page."""
    return session.scalars(sa.select(BreakGlass).where(BreakGlass.case_id == case_id)
                           .options(selectinload(BreakGlass.user))
                           .order_by(BreakGlass.opened_at.desc(), BreakGlass.id.desc())).all()
