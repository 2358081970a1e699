"""Training by role and subcontracted provision for the evidence pack (issue 14, point 7): one plain function,
`evidence`, with figures only (no names of people: no staff member's, no subject's)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.kernel.errors import Forbidden
from app.kernel.security import can
from app.models import Case, Subcontractor, Subject, SubjectType
from app.training import use_cases as training


def _figures(group: training.Figures) -> dict[str, Any]:
    return {"active": group.active, "current": group.current, "due_soon": group.due_soon, "overdue": group.overdue,
            "percent": group.percent}


def evidence(session: Session, actor, start: date, end: date) -> dict[str, Any]:
    """For a period [start, end] (both days included), for whoever reads training compliance (officers, the Prevent
    Lead, Governance; Forbidden otherwise):

    - `training`: compliance against the Lead's requirements as it stands at the end of the period (or today, if the
      period ends later): `as_of`; `rule` ("any_prevent_training" when no course is required of any role or team,
      else "requirements"); `requirements` (course, and the role or team it is required of); `overall`; `teams`;
      `subcontractors` (each subcontractor's staff on the staff list). Figures are active staff, current, due soon,
      overdue (never trained included) and percent (None with no active staff).
    - `subcontractors`: how many are in use, and how many are retired.
    - `subcontractor_learner_concerns`: how many concerns about a subcontractor's learner were recorded in the period
      (a count only: every such concern, whoever may see it; no case detail).
    Counts are not suppressed here: the pack suppresses small numbers for its readers (app/governance/suppression.py).
    """
    if not can(actor, "can_read", "Compliance"):
        raise Forbidden()
    as_of = min(end, date.today())
    compliance = training.compliance(session, actor, as_of)
    in_use = session.scalar(sa.select(sa.func.count()).select_from(Subcontractor)
                            .where(Subcontractor.active.is_(True))) or 0
    retired = session.scalar(sa.select(sa.func.count()).select_from(Subcontractor)
                             .where(Subcontractor.active.is_(False))) or 0
    first = datetime.combine(start, time.min, tzinfo=UTC)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    concerns = session.scalar(
        sa.select(sa.func.count()).select_from(Case).join(Subject, Subject.id == Case.subject_id)
        .where(Subject.subject_type == SubjectType.subcontractor_learner, Case.recorded_at >= first,
               Case.recorded_at < after)) or 0
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "training": {
            "as_of": as_of.isoformat(),
            "rule": "requirements" if compliance.requirements else "any_prevent_training",
            "requirements": [{"course": r.course.name, "role": r.role, "team": r.team}
                             for r in compliance.requirements],
            "overall": _figures(compliance.overall),
            "teams": [{"team": group.label, **_figures(group)} for group in compliance.teams],
            "subcontractors": [{"subcontractor": group.label, **_figures(group)}
                               for group in compliance.subcontractors],
        },
        "subcontractors": {"in_use": in_use, "retired": retired},
        "subcontractor_learner_concerns": concerns,
    }
