"""What the workflow's guards need to know about a case (app/kernel/workflow.py, `Facts`), read from the database:
the person's date of birth, the panel's date, when support ended, which post-exit reviews are recorded since then,
and the review grace the Prevent Lead sets. The transition use case asks for them before it plans an event."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.kernel import settings, workflow
from app.models import Case, CaseEntry, CaseStatus


def reviews_since_exit(session: Session, case_id: int) -> frozenset[str]:
    """The post-exit reviews (6_months, 12_months) recorded since support last ended: a case reopened and supported
    again starts its reviews again."""
    done: set[str] = set()
    entries = session.scalars(sa.select(CaseEntry).where(CaseEntry.case_id == case_id, CaseEntry.kind == "transition")
                              .order_by(CaseEntry.at, CaseEntry.id)).all()
    ended, reviewing = CaseStatus.channel_support.value, CaseStatus.post_exit_review.value
    for entry in entries:
        if entry.from_status == ended and entry.to_status == reviewing:
            done.clear()
        elif entry.from_status == reviewing and (review := (entry.data or {}).get("review")):
            done.add(review)
    return frozenset(done)


def facts_for(session: Session, case: Case, today: date | None = None) -> workflow.Facts:
    return workflow.Facts(
        today=today or date.today(),
        date_of_birth=case.subject.date_of_birth,
        panel_date=case.panel_date,
        exit_date=case.exit_date,
        reviews_done=(reviews_since_exit(session, case.id) if case.status == CaseStatus.post_exit_review
                      else frozenset()),
        review_grace_days=settings.read(session, settings.REVIEW_GRACE_DAYS),
    )
