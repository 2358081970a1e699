"""The safety of the person who raised a concern (policy section 11: staff who refer are kept safe). Officers and the
Lead record the risk to them (none, a concern, a threat received), whether the police were told, and what is being
done; each change is audited with its old and new values and told in the chronology. Any risk but `none` shows on
the Lead's oversight until it is set back to none. Never shown to the person who raised the concern."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.cases.parallel_referrals import case_to_record_on
from app.cases.schemas import REFERRER_SAFETY
from app.cases.use_cases import add_entry
from app.kernel import audit, formats
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import CaseAccess, can, case_access, full_access_clause
from app.kernel.uow import unit_of_work
from app.models import Case, CaseStatus, ReferrerRisk, ReferrerSafety, utcnow

RISK_WORDS = {
    ReferrerRisk.none: "No known risk",
    ReferrerRisk.concern: "A concern for their safety",
    ReferrerRisk.threat_received: "A threat has been received",
}


def summary(row: ReferrerSafety) -> str:
    police = "police informed" if row.police_informed else "police not informed"
    return f"Referrer safety: {RISK_WORDS[row.risk].lower()}; {police}"


def set_referrer_safety(actor, case_id: int, payload: Any) -> ReferrerSafety:
    """Records the risk to the referrer on an open case (in place: the audit trail keeps the earlier values)."""
    with unit_of_work() as session:
        case = case_to_record_on(session, actor, case_id)
        form = REFERRER_SAFETY.read(payload)
        if form["risk"] not in (None, ReferrerRisk.none.value):
            form.require("measures")
        form.check()
        row = session.get(ReferrerSafety, case.id)
        first = row is None
        if row is None:
            row = ReferrerSafety(case_id=case.id)
            session.add(row)
        row.risk, row.police_informed = ReferrerRisk(form["risk"]), form["police_informed"]
        row.measures, row.updated_by_id, row.updated_at = form["measures"], actor.id, utcnow()
        if first:
            try:
                session.flush()
            except sa.exc.IntegrityError:  # another officer's first record on this case landed first
                raise Conflict("Someone else has just recorded the referrer's safety on this case: reload the "
                               "page to see it, then make your change.", case.status.value) from None
        audit.record(session, actor, "referrer_safety", row, reason=row.measures)
        add_entry(session, case, actor, "referrer_safety", summary(row), reason=row.measures,
                  data={"risk": row.risk.value, "police_informed": row.police_informed})
        return row


def referrer_safety(session: Session, actor, case_id: int) -> ReferrerSafety | None:
    """The case's referrer safety as last recorded (None: never assessed); for officers and the Lead on the case."""
    if not can(actor, "can_read"):
        raise Forbidden()
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    return session.get(ReferrerSafety, case_id)


def at_risk_clause() -> sa.ColumnElement[bool]:
    return sa.and_(ReferrerSafety.risk != ReferrerRisk.none, Case.status != CaseStatus.closed)


def referrers_at_risk(session: Session, actor, limit: int) -> tuple[Sequence[ReferrerSafety], int]:
    """Open cases, among those the user may work on, whose referrer is at risk: threats first, then the longest
    standing; and how many there are."""
    where = sa.and_(at_risk_clause(), full_access_clause(actor))
    query = sa.select(ReferrerSafety).join(Case, Case.id == ReferrerSafety.case_id).where(where)
    total = session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = session.scalars(query.options(selectinload(ReferrerSafety.case))
                           .order_by((ReferrerSafety.risk == ReferrerRisk.threat_received).desc(),
                                     ReferrerSafety.updated_at, ReferrerSafety.case_id).limit(limit)).all()
    return rows, total


def safety_json(row: ReferrerSafety) -> dict[str, Any]:
    return {"case_id": row.case_id, "risk": row.risk.value, "police_informed": row.police_informed,
            "measures": row.measures, "updated_by": row.updated_by.username, "updated_at": formats.iso(row.updated_at)}


def erase_for_cases(session: Session, case_ids: list[int]) -> list[Any]:
    """Retention: what was done to keep the referrer safe goes; the row stays, as the audit trail names it."""
    erased: list[Any] = []
    for row in session.scalars(sa.select(ReferrerSafety).where(ReferrerSafety.case_id.in_(case_ids))):
        row.measures = None
        erased.append(row)
    return erased
