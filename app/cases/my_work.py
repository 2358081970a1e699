""""My work": the home page of Safeguarding Officers and the Prevent Lead, and `GET /api/v1/my_work/`.

What waits for this person, on cases they may work on (the need-to-know rule, `full_access_clause`), open cases only:
- their open actions, overdue first, then by due date;
- new concerns not yet acknowledged (urgent first, then oldest first);
- cases they took on (the last decision on them was theirs) that are under review, awaiting their decision;
- reviews due: 6- and 12-month post-support reviews from 14 days before they fall due until recorded, and, for the
  Prevent Lead, the periodic reviews due (app/governance/oversight.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.governance.oversight import review_due_clause  # the Lead's periodic reviews: oversight's one rule
from app.kernel.errors import Forbidden
from app.kernel.formats import iso
from app.kernel.security import can, full_access_clause
from app.models import ActionStatus, Case, CaseAction, CaseEntry, CaseReview, CaseStatus
from app.notifications.notify import REVIEW_NOTICE, REVIEWS

LIMIT = 100  # of each kind: a page to work from, not an archive


@dataclass(frozen=True)
class ReviewDue:
    case: Case
    kind: str  # "6_months", "12_months" (post-support) or "lead_review" (the Lead's periodic review)
    label: str
    due_on: date | None  # None: a periodic review never held, due since the case passed the review interval

    def overdue(self, today: date) -> bool:
        return self.due_on is not None and self.due_on < today


@dataclass
class MyWork:
    today: date
    actions: list[CaseAction] = field(default_factory=list)
    to_acknowledge: list[Case] = field(default_factory=list)
    awaiting_decision: list[Case] = field(default_factory=list)
    reviews_due: list[ReviewDue] = field(default_factory=list)
    # How many there are of each (the lists hold the first `limit`).
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def overdue_actions(self) -> int:
        return sum(1 for action in self.actions if action.is_overdue(self.today))

    @property
    def empty(self) -> bool:
        return not (self.actions or self.to_acknowledge or self.awaiting_decision or self.reviews_due)


def _last_decision_by() -> sa.ScalarSelect:
    """Who took the latest workflow event on the case (its acknowledgement, or a reopening)."""
    return (sa.select(CaseEntry.actor_id).where(CaseEntry.case_id == Case.id, CaseEntry.kind == "transition")
            .order_by(CaseEntry.at.desc(), CaseEntry.id.desc()).limit(1).scalar_subquery())


def my_work(session: Session, actor, today: date | None = None, limit: int = LIMIT) -> MyWork:
    if not can(actor, "can_read_all"):
        raise Forbidden()
    today = today or date.today()
    mine = full_access_clause(actor)
    open_case = Case.status != CaseStatus.closed
    work = MyWork(today)

    def first(kind: str, query: sa.Select) -> list:
        work.totals[kind] = session.execute(
            sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        return list(session.scalars(query.limit(limit)))

    work.actions = first("actions", sa.select(CaseAction).join(Case).where(
        mine, open_case, CaseAction.owner_id == actor.id, CaseAction.status == ActionStatus.open)
        .options(selectinload(CaseAction.case)).order_by(CaseAction.due_date, CaseAction.id))
    work.to_acknowledge = first("to_acknowledge", sa.select(Case).where(mine, Case.status == CaseStatus.reported)
                                .order_by(Case.urgent.desc(), Case.recorded_at, Case.id))
    work.awaiting_decision = first("awaiting_decision", sa.select(Case).where(
        mine, Case.status == CaseStatus.under_review, _last_decision_by() == actor.id)
        .order_by(Case.urgent.desc(), Case.recorded_at, Case.id))
    work.reviews_due = _post_support_reviews(session, actor, today, limit)
    if can(actor, "can_review"):
        work.reviews_due += [ReviewDue(case, "lead_review", "Prevent Lead's periodic review", due)
                             for case, due in _lead_reviews(session, actor, today, limit)]
    work.reviews_due.sort(key=lambda r: (r.due_on or date.min, r.case.id))
    work.totals["reviews_due"] = len(work.reviews_due)
    return work


def _post_support_reviews(session: Session, actor, today: date, limit: int) -> list[ReviewDue]:
    if not can(actor, "can_transition"):
        return []
    waiting = session.scalars(sa.select(Case).where(full_access_clause(actor),
                                                    Case.status == CaseStatus.post_exit_review,
                                                    Case.exit_date.is_not(None)).order_by(Case.exit_date)
                              .limit(limit)).all()
    done: dict[int, set[str]] = {case.id: set() for case in waiting}
    for case_id, data in session.execute(sa.select(CaseEntry.case_id, CaseEntry.data).where(
            CaseEntry.case_id.in_(done), CaseEntry.kind == "transition")):
        if data and data.get("review"):
            done[case_id].add(data["review"])
    due = []
    for case in waiting:
        for review, label, after in REVIEWS:
            on = case.exit_date + after
            if review not in done[case.id] and today >= on - REVIEW_NOTICE:
                due.append(ReviewDue(case, review, f"{label} post-support review", on))
    return due


def _lead_reviews(session: Session, actor, today: date, limit: int) -> list[tuple[Case, date | None]]:
    """Open cases whose periodic review by the Lead is due, each with the date it fell due (None: never reviewed)."""
    latest = (sa.select(sa.func.max(CaseReview.next_review_due)).where(CaseReview.case_id == Case.id)
              .scalar_subquery())
    return [(case, due) for case, due in session.execute(
        sa.select(Case, latest).where(full_access_clause(actor), review_due_clause(today))
        .order_by(Case.id).limit(limit))]


def my_work_json(work: MyWork) -> dict[str, Any]:
    def case_ref(case: Case) -> dict[str, Any]:
        return {"id": case.id, "reference": case.reference, "status": case.status.value, "urgent": case.urgent,
                "recorded_at": iso(case.recorded_at)}

    return {
        "actions": [{"id": a.id, "title": a.title, "due_date": iso(a.due_date),
                     "overdue": a.is_overdue(work.today), "case": case_ref(a.case)} for a in work.actions],
        "to_acknowledge": [case_ref(c) for c in work.to_acknowledge],
        "awaiting_decision": [case_ref(c) for c in work.awaiting_decision],
        "totals": work.totals,
        "reviews_due": [{"kind": r.kind, "label": r.label, "due_on": iso(r.due_on),
                         "overdue": r.overdue(work.today), "case": case_ref(r.case)} for r in work.reviews_due],
    }
