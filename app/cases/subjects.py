"""Subjects: the people a concern is about."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.cases.schemas import SUBJECT
from app.kernel import audit
from app.kernel.errors import Forbidden, NotFound
from app.kernel.schemas import Loaded
from app.kernel.security import can, visible_subjects_clause
from app.kernel.uow import unit_of_work
from app.models import Employer, Subcontractor, Subject, SubjectType


def subject_from_payload(session: Session, actor, form: Loaded) -> Subject:
    """A new Subject from the fields read (errors collected on `form`), added to the session."""
    full_name, subject_type, date_of_birth = form["full_name"], form["subject_type"], form["date_of_birth"]
    programme, learner_ref, employer_id = form["programme"], form["learner_ref"], form["employer_id"]
    if employer_id is not None and session.get(Employer, employer_id) is None:
        form.error("employer_id", "Choose an employer from the list.")
    # Which subcontractor, for a subcontractor's learner only: the concern form sends its choice whatever the type.
    subcontractor_id = form["subcontractor_id"] if subject_type == SubjectType.subcontractor_learner else None
    if subcontractor_id is not None:
        subcontractor = session.get(Subcontractor, subcontractor_id)
        if subcontractor is None or not subcontractor.active:
            form.error("subcontractor_id", "Choose a subcontractor from the list.")
    subject = Subject(
        full_name=full_name or "", subject_type=SubjectType(subject_type) if subject_type else None,
        date_of_birth=date_of_birth, programme=programme, learner_ref=learner_ref, employer_id=employer_id,
        subcontractor_id=subcontractor_id,
        name_key=Subject.make_name_key(full_name or ""), created_by_id=actor.id,
    )
    if not form.errors:
        session.add(subject)
    return subject


def create_subject(actor, payload: Any) -> Subject:
    if not can(actor, "can_create", "Subject"):
        raise Forbidden()
    with unit_of_work() as session:
        form = SUBJECT.read(payload)
        subject = subject_from_payload(session, actor, form)
        form.check()
        session.flush()
        audit.record(session, actor, "create_subject", subject)
        return subject


def matches_subject(text: str) -> sa.ColumnElement[bool]:
    """Subjects whose name contains `text` (any case and spacing), or whose learner reference is `text`."""
    key = Subject.make_name_key(text)
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.or_(Subject.name_key.like(pattern, escape="\\"), Subject.learner_ref == text.strip())


def search_subjects(session: Session, actor, text: str, limit: int = 20) -> Sequence[Subject]:
    """Officers find an existing subject by name or learner reference when raising a concern."""
    if not can(actor, "can_read", "Subject"):
        raise Forbidden()
    if len(Subject.make_name_key(text)) < 2:
        return []
    return session.scalars(
        sa.select(Subject).where(matches_subject(text), visible_subjects_clause(actor))
        .order_by(Subject.name_key).limit(limit)
    ).all()


def get_subject(session: Session, actor, subject_id: int) -> Subject:
    if not can(actor, "can_read", "Subject"):
        raise Forbidden()
    subject = session.scalar(sa.select(Subject).where(Subject.id == subject_id, visible_subjects_clause(actor)))
    if subject is None:
        raise NotFound("subject")
    return subject
