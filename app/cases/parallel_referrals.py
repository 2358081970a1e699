"""Parallel safeguarding referrals: a copy of the concern sent to the MASH (the children's safeguarding front door),
children's or adult social care, the LADO, the HR manager or elsewhere, alongside the police referral. Recorded by
officers and the Lead at any open state, audited, told in the chronology; never shown to the person who raised it.

For a person under 18 a copy to the MASH is expected: the case page reminds the officers until one is recorded.
On a concern about a colleague the HR manager (policy Appendix 1) and the LADO (KCSIE Part 4) come first."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.cases.schemas import PARALLEL_REFERRAL
from app.cases.use_cases import add_entry
from app.kernel import audit, formats
from app.kernel.ages import is_under_18
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import CaseAccess, can, case_access
from app.kernel.uow import unit_of_work
from app.models import Case, ParallelReferral, ParallelReferralKind, SubjectType, utcnow

# Each kind: how the form names it, and what the chronology says was done.
KINDS: dict[ParallelReferralKind, tuple[str, str]] = {
    ParallelReferralKind.mash: ("MASH (the children's safeguarding front door)",
                                "Copy sent to the MASH (children's safeguarding front door)"),
    ParallelReferralKind.childrens_social_care: ("Children's social care", "Copy sent to children's social care"),
    ParallelReferralKind.adult_social_care: ("Adult social care", "Copy sent to adult social care"),
    ParallelReferralKind.lado: ("LADO (the Local Authority Designated Officer, for staff who work with children)",
                                "Referred to the LADO (Local Authority Designated Officer)"),
    ParallelReferralKind.hr: ("HR manager", "Referred to the HR manager"),
    ParallelReferralKind.other: ("Someone else (say who in the note)", "Copy sent to another safeguarding route"),
}
# On a concern about a colleague the routes for staff come first.
COLLEAGUE_FIRST = (ParallelReferralKind.hr, ParallelReferralKind.lado)


def may_record_beside(actor, case: Case) -> bool:
    """Whether the case page offers the forms beside the pathway (parallel referrals, referrer safety): an open case,
    for someone who takes workflow events. `case_to_record_on` refuses the rest."""
    return case.is_open and can(actor, "can_transition")


def case_to_record_on(session: Session, actor, case_id: int) -> Case:
    """The case, for an officer or the Lead to record something beside the pathway: 404 for anyone who may not
    work on it (the person who raised it included), 403 for a role that may not record, 409 once it is closed."""
    if not can(actor, "can_read"):
        raise Forbidden()
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    if not can(actor, "can_transition"):
        raise Forbidden()
    case = session.get_one(Case, case_id)
    if not case.is_open:
        raise Conflict("The case is closed: reopen it before recording anything more on it.", case.status.value)
    return case


def summary(row: ParallelReferral) -> str:
    said = KINDS[row.kind][1]
    return f"{said}, ref {row.reference}" if row.reference else said


def record_parallel_referral(actor, case_id: int, payload: Any) -> ParallelReferral:
    """Records a parallel referral on an open case: audited, and in the chronology with the note as its reason."""
    with unit_of_work() as session:
        case = case_to_record_on(session, actor, case_id)
        form = PARALLEL_REFERRAL.check(payload)
        row = ParallelReferral(case_id=case.id, kind=ParallelReferralKind(form["kind"]),
                               referred_on=form["referred_on"], reference=form["reference"], note=form["note"],
                               recorded_by_id=actor.id, recorded_at=utcnow())
        session.add(row)
        session.flush()
        audit.record(session, actor, "record_parallel_referral", row, reason=row.note)
        add_entry(session, case, actor, "parallel_referral", summary(row), reason=row.note,
                  data={"kind": row.kind.value, "referred_on": row.referred_on, "reference": row.reference})
        return row


def parallel_referrals(session: Session, actor, case_id: int) -> Sequence[ParallelReferral]:
    """The case's parallel referrals, in the order they were sent: for officers and the Lead on the case only."""
    if not can(actor, "can_read"):
        raise Forbidden()
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    return session.scalars(sa.select(ParallelReferral).where(ParallelReferral.case_id == case_id)
                           .options(selectinload(ParallelReferral.recorded_by))
                           .order_by(ParallelReferral.referred_on, ParallelReferral.id)).all()


def mash_copy_due(case: Case, rows: Sequence[ParallelReferral], today: date) -> bool:
    """Whether the case page reminds the officers to send the MASH a copy: an open case about someone under 18
    today, with no MASH referral recorded yet."""
    return case.is_open and is_under_18(case.subject.date_of_birth, today) \
        and not any(row.kind is ParallelReferralKind.mash for row in rows)


def kind_options(case: Case) -> list[tuple[str, str]]:
    """The kinds as the form offers them, in words: HR and the LADO first on a concern about a colleague."""
    order = list(ParallelReferralKind)
    if case.subject.subject_type == SubjectType.staff:
        order = [*COLLEAGUE_FIRST, *(kind for kind in order if kind not in COLLEAGUE_FIRST)]
    return [(kind.value, KINDS[kind][0]) for kind in order]


def referral_json(row: ParallelReferral) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "kind": row.kind.value, "referred_on": formats.iso(row.referred_on),
            "reference": row.reference, "note": row.note, "summary": summary(row),
            "recorded_by": row.recorded_by.username, "recorded_at": formats.iso(row.recorded_at)}


def erase_for_cases(session: Session, case_ids: list[int]) -> list[Any]:
    """Retention: the references and notes go; the rows stay, as the audit trail names them."""
    erased: list[Any] = []
    for row in session.scalars(sa.select(ParallelReferral).where(ParallelReferral.case_id.in_(case_ids))):
        row.reference, row.note = None, ""
        erased.append(row)
    return erased
