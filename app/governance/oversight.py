"""The Prevent Lead's oversight: who has opened which case (written by app/kernel/access_log.py), unusual access,
periodic reviews, and the dashboard."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.cases.referrer_safety import referrers_at_risk
from app.cases.use_cases import chronology, repeat_referral_clause
from app.extensions import db
from app.governance.schemas import CHRONOLOGY_EXPORT, EXPORT_FORMATS, REVIEW
from app.kernel import audit, exports, formats
from app.kernel.errors import Forbidden, NotFound
from app.kernel.security import CaseAccess, can, case_access, full_access_clause
from app.kernel.uow import unit_of_work
from app.models import (
    AccessAlert,
    AccessLogEntry,
    ActionStatus,
    Case,
    CaseAction,
    CaseEntry,
    CaseReview,
    CaseStatus,
    User,
    stalled_clause,
    utcnow,
)
from app.risks.use_cases import overdue_for_oversight

# --- the access log --------------------------------------------------------------------------------------------

def who_has_seen(session: Session, actor, case_id: int) -> Sequence[AccessLogEntry]:
    if not can(actor, "can_read_access_log"):
        raise Forbidden()
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    return session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
                           .options(selectinload(AccessLogEntry.user))
                           .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())).all()


def access_log(session: Session, actor, *, user_id: int | None = None, outside_only: bool = False,
               page: int = 0, page_size: int = 50) -> tuple[int, Sequence[AccessLogEntry]]:
    """Across cases, newest first: every open and export, optionally one user's or only those outside own work."""
    if not can(actor, "can_read_access_log"):
        raise Forbidden()
    conditions: list[sa.ColumnElement[bool]] = [
        AccessLogEntry.case_id.in_(sa.select(Case.id).where(full_access_clause(actor)))]
    if user_id is not None:
        conditions.append(AccessLogEntry.user_id == user_id)
    if outside_only:
        conditions.append(AccessLogEntry.outside_own_work.is_(True))
    where = sa.and_(*conditions)
    count = session.execute(sa.select(sa.func.count()).select_from(AccessLogEntry).where(where)).scalar_one()
    rows = session.scalars(sa.select(AccessLogEntry).where(where).options(selectinload(AccessLogEntry.user))
                           .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
                           .limit(page_size).offset(page * page_size)).all()
    return count, rows


# --- the Lead's periodic reviews ---------------------------------------------------------------------------------

def record_review(actor, case_id: int, payload: Any) -> CaseReview:
    if not can(actor, "can_review"):
        raise Forbidden()
    with unit_of_work() as session:
        if case_access(session, actor, case_id) is not CaseAccess.FULL:
            raise NotFound("case")
        case = session.get_one(Case, case_id)
        form = REVIEW.read(payload)
        reviewed_on = form["reviewed_on"] or date.today()
        note = form["note"]
        interval = timedelta(days=current_app.config["LEAD_REVIEW_INTERVAL_DAYS"])
        next_due = form["next_review_due"] or reviewed_on + interval
        if reviewed_on > date.today():
            form.error("reviewed_on", "A review cannot be in the future.")
        if next_due <= reviewed_on:
            form.error("next_review_due", "The next review must come after this one.")
        form.check()
        review = CaseReview(case_id=case.id, reviewed_on=reviewed_on, note=note, next_review_due=next_due,
                            reviewer_id=actor.id)
        session.add(review)
        session.flush()
        audit.record(session, actor, "lead_review", review, reason=note)
        session.add(CaseEntry(case_id=case.id, actor_id=actor.id, kind="lead_review", summary="Prevent Lead's review",
                              reason=note, data={"next_review_due": next_due.isoformat()}))
        return review


def reviews_of(session: Session, case_id: int) -> Sequence[CaseReview]:
    return session.scalars(sa.select(CaseReview).where(CaseReview.case_id == case_id)
                           .order_by(CaseReview.reviewed_on.desc(), CaseReview.id.desc())).all()


def review_due_clause(today: date) -> sa.ColumnElement[bool]:
    """Open cases whose last review's next date has come, or that were never reviewed and are older than the
    review interval."""
    interval = timedelta(days=current_app.config["LEAD_REVIEW_INTERVAL_DAYS"])
    latest_due = (sa.select(sa.func.max(CaseReview.next_review_due)).where(CaseReview.case_id == Case.id)
                  .scalar_subquery())
    first_due_by = datetime.combine(today - interval, time.min, tzinfo=UTC)
    return sa.and_(Case.status != CaseStatus.closed, sa.or_(
        latest_due <= today,
        sa.and_(latest_due.is_(None), Case.recorded_at <= first_due_by),
    ))


# --- the dashboard ---------------------------------------------------------------------------------------------

@dataclass
class Panel:
    """The first few of something on the dashboard (oldest or most pressing first), and how many there are."""

    items: Sequence
    total: int


@dataclass
class Dashboard:
    awaiting_acknowledgement: Panel
    urgent: Panel
    overdue_actions: Panel
    reviews_due: Panel
    awaiting_police: Panel
    stalled: Panel
    repeat_referrals: Panel
    alerts: Sequence[AccessAlert]
    referrers_at_risk: Panel  # of ReferrerSafety rows (app/cases/referrer_safety.py), each with its case
    risk_actions_overdue: Panel  # of RiskAction rows: the risk assessment's plan (app/risks), each with its risk


def dashboard(session: Session, actor, today: date | None = None, panel_size: int = 20) -> Dashboard:
    if not can(actor, "can_review"):
        raise Forbidden()
    today = today or date.today()
    mine = full_access_clause(actor)
    open_case = Case.status != CaseStatus.closed

    def panel(query: sa.Select, *loads) -> Panel:
        total = session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        return Panel(session.scalars(query.options(*loads).limit(panel_size)).all(), total)

    def cases(*where, order=Case.recorded_at) -> Panel:
        return panel(sa.select(Case).where(mine, *where).order_by(order, Case.id), selectinload(Case.subject))

    return Dashboard(
        awaiting_acknowledgement=cases(Case.status == CaseStatus.reported),
        urgent=cases(open_case, Case.urgent.is_(True)),
        overdue_actions=panel(
            sa.select(CaseAction).join(Case).where(mine, open_case, CaseAction.status == ActionStatus.open,
                                                   CaseAction.due_date < today).order_by(CaseAction.due_date),
            selectinload(CaseAction.owner), selectinload(CaseAction.case)),
        reviews_due=cases(review_due_clause(today)),
        awaiting_police=cases(Case.status == CaseStatus.referred_to_police, order=Case.referral_date),
        stalled=cases(stalled_clause(utcnow(), current_app.config["STALLED_AFTER_DAYS"])),
        repeat_referrals=cases(open_case, repeat_referral_clause()),
        alerts=session.scalars(sa.select(AccessAlert).options(selectinload(AccessAlert.user))
                               .order_by(AccessAlert.raised_at.desc()).limit(panel_size)).all()
        if can(actor, "can_read_access_log") else [],
        referrers_at_risk=Panel(*referrers_at_risk(session, actor, panel_size)),
        risk_actions_overdue=Panel(*overdue_for_oversight(session, actor, today, panel_size)),
    )


def waited(since: datetime) -> str:
    """How long something has waited, in words a busy officer reads at a glance."""
    hours = int((utcnow() - since).total_seconds() // 3600)
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"



# --- exports ---------------------------------------------------------------------------------------------------



@dataclass(frozen=True)
class Export:
    filename: str
    mimetype: str
    content: bytes


def export_chronology(actor, case_id: int, payload: Any) -> Export:
    """The case's chronology as PDF or CSV, staff names optionally redacted; audited and logged as an access."""
    if not can(actor, "can_export"):
        raise Forbidden()
    form = CHRONOLOGY_EXPORT.check(payload)
    fmt, redact = form["format"], form.get("redact_staff", False)
    session = db.session
    items = chronology(session, actor, case_id)  # 404 unless the user may work on the case
    case = session.get(Case, case_id)
    rows = exports.export_rows(items)
    facts = [("Reference", case.reference), ("State", case.status.value.replace("_", " ")),
             ("Raised", formats.uk_datetime(case.recorded_at)),
             ("About", f"{case.subject.full_name} ({case.subject.subject_type.value.replace('_', ' ')})")]
    if redact:
        names = [f"{u.first_name} {u.last_name}" for u in session.scalars(sa.select(User))]
        pseudonyms = exports.StaffPseudonyms(names)
        rows = [pseudonyms.row(row) for row in rows]
    with unit_of_work() as work:
        audit.record(work, actor, f"export_{fmt}", work.get(Case, case_id),
                     extra_changes={"redact_staff": (None, redact), "entries": (None, len(rows))})
        work.add(AccessLogEntry(user_id=actor.id, case_id=case_id, channel="export", what=f"export_{fmt}",
                                outside_own_work=False, at=utcnow()))
    name = f"{case.reference}-chronology{'-redacted' if redact else ''}.{fmt}"
    if fmt == "csv":
        return Export(name, EXPORT_FORMATS[fmt], exports.to_csv(rows))
    note = (f"Exported {formats.uk_datetime(utcnow())} by {'a member of staff' if redact else actor.username}. "
            "OFFICIAL-SENSITIVE: Prevent case record. Share only with those who need to know.")
    return Export(name, EXPORT_FORMATS[fmt], exports.to_pdf(f"Case {case.reference}", facts, rows, note))
