"""Subjects: the people a concern is about."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.kernel import audit
from app.kernel.errors import Forbidden, NotFound
from app.kernel.security import can, visible_subjects_clause
from app.kernel.uow import unit_of_work
from app.kernel.validation import Form, choice_parser, not_in_future, parse_date, parse_int, text_parser
from app.models import Employer, Subject, SubjectType

SUBJECT_TYPES = tuple(t.value for t in SubjectType)


def subject_from_payload(session: Session, actor, form: Form) -> Subject:
    """A new Subject from the form's fields (errors collected on the form), added to the session."""
    full_name = form.field("full_name", text_parser(200))
    subject_type = form.field("subject_type", choice_parser(SUBJECT_TYPES))
    date_of_birth = form.field("date_of_birth", lambda raw: not_in_future(parse_date(raw)), required=False)
    programme = form.field("programme", text_parser(200), required=False)
    learner_ref = form.field("learner_ref", text_parser(64), required=False)
    employer_id = form.field("employer_id", parse_int, required=False)
    if employer_id is not None and session.get(Employer, employer_id) is None:
        form.error("employer_id", "Choose an employer from the list.")
    subject = Subject(
        full_name=full_name or "", subject_type=SubjectType(subject_type) if subject_type else None,
        date_of_birth=date_of_birth, programme=programme, learner_ref=learner_ref, employer_id=employer_id,
        name_key=Subject.make_name_key(full_name or ""), created_by_id=actor.id,
    )
    if not form.errors:
        session.add(subject)
    return subject


def create_subject(actor, payload: Any) -> Subject:
    if not can(actor, "can_create", "Subject"):
        raise Forbidden()
    with unit_of_work() as session:
        form = Form(payload)
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
