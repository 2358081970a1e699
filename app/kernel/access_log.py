"""The access log's entries: who opened which case, by page or API, and whether it was outside their own work.

Written by the read use cases (app/cases/use_cases.py: read_case, read_chronology, read_audit_trail), so that every
caller that reads a case logs it; exports log their own entries (app/governance/oversight.py, retention.py). The Lead
reads the log through app/governance/oversight.py. Many openings outside one's own work in a short time raise an
alert to the Lead.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.kernel.security import can, case_workers
from app.models import AccessAlert, AccessLogEntry, Case, CaseAccessGrant, CaseAction, CaseEntry, utcnow
from app.notifications import notify, outbox


def _own_work_clause(user_id: int) -> sa.ColumnElement[bool]:
    """The user raised the case, wrote on it, owns an action on it, or was granted it."""
    return sa.or_(
        Case.reporter_id == user_id,
        sa.exists().where(CaseEntry.case_id == Case.id, CaseEntry.actor_id == user_id),
        sa.exists().where(CaseAction.case_id == Case.id, CaseAction.owner_id == user_id),
        sa.exists().where(CaseAccessGrant.case_id == Case.id, CaseAccessGrant.user_id == user_id),
    )


def record_opening(session: Session, actor, case_id: int, channel: str, what: str) -> None:
    """Adds to the caller's transaction that `actor` opened `what` of a case they may see, by `channel` ("page" or
    "api"), and flags a run of openings outside their own work."""
    outside = not session.scalar(sa.select(_own_work_clause(actor.id)).where(Case.id == case_id))
    session.add(AccessLogEntry(user_id=actor.id, case_id=case_id, channel=channel, what=what,
                               outside_own_work=outside, at=utcnow()))
    if outside:
        session.flush()
        _flag_unusual_access(session, actor)


def _flag_unusual_access(session: Session, actor) -> None:
    minutes = current_app.config["UNUSUAL_ACCESS_MINUTES"]
    threshold = current_app.config["UNUSUAL_ACCESS_CASES"]
    since = utcnow() - timedelta(minutes=minutes)
    opened = session.scalar(sa.select(sa.func.count(sa.distinct(AccessLogEntry.case_id))).where(
        AccessLogEntry.user_id == actor.id, AccessLogEntry.outside_own_work.is_(True), AccessLogEntry.at >= since))
    if opened < threshold:
        return
    already = session.scalar(sa.select(AccessAlert.id).where(AccessAlert.user_id == actor.id,
                                                             AccessAlert.raised_at >= since).limit(1))
    if already is not None:
        return
    session.add(AccessAlert(user_id=actor.id, cases_opened=opened, window_minutes=minutes, raised_at=utcnow()))
    for lead in case_workers(session):
        if can(lead, "can_read_access_log"):
            outbox.queue(session, kind="unusual_access", recipient=lead, urgent=True,
                         subject="Unusual access to case records",
                         body=("Someone opened many cases outside their own work in a short time. Sign in to see "
                               f"who and which: {notify.public_url('/oversight/')}" + notify.FOOTER))
