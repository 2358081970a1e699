"""Retention and subject rights: when a subject's records fall due, legal hold, the Prevent Lead's approval, erasure,
and the subject access export.

Retention is per subject (the person a concern is about), over all their cases, by one rule (`retention_of`):
- a learner (or subcontractor's learner) under 18 at their first concern: date of birth + 25 years;
- a member of staff: 10 years after they left (the leaving date of the staff record linked to the subject; none
  linked, or not left, and nothing falls due);
- anyone else (adults, the public, learners of 18 or more, unknown date of birth): RETENTION_OTHER_YEARS after the
  last of their cases closed.
Nothing falls due while any of the subject's cases is open, nor while the subject is on legal hold.

Two steps: `flask retention run` proposes what has fallen due (awaiting the Lead's approval), and erases what the
Lead approved and is still due and not on hold. Erasure blanks personal data and free text, keeps the structure the
Board report counts (subject type, programme, case states, outcomes, types of concern, dates), empties the audit
events about the subject (see app/kernel/audit.py), and leaves one tombstone event with references and dates only.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.cases import parallel_referrals, referrer_safety
from app.cases.referral_form import FIELDS as REFERRAL_FIELDS
from app.cases.use_cases import chronology
from app.drafts import use_cases as drafts
from app.extensions import db
from app.governance.oversight import Export
from app.governance.schemas import (
    APPROVE_ERASURE,
    EXPORT_FORMATS,
    LEGAL_HOLD,
    STAFF_RECORD,
    SUBJECT_ACCESS_EXPORT,
)
from app.kernel import audit, exports, formats
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import (
    AccessLogEntry,
    AuditEvent,
    Case,
    CaseAttachment,
    CaseEntry,
    CaseReview,
    CaseStatus,
    OutboxEmail,
    PersonInvolved,
    ReferralDetails,
    StaffMember,
    Subject,
    SubjectType,
    User,
    format_reference,
    parse_reference,
    utcnow,
)
from app.monitoring import use_cases as monitoring

SYSTEM = "system:retention"
ERASED_NAME = "(erased)"
CHILD, STAFF, OTHER = "child_dob_plus_25", "staff_left_plus_10", "other_after_closure"
CHILD_YEARS, STAFF_YEARS = 25, 10
RULES = {CHILD: "under 18 at the concern: date of birth + 25 years", STAFF: "staff: 10 years after leaving",
         OTHER: "others: the set number of years after the last case closed"}
LEARNERS = (SubjectType.learner, SubjectType.subcontractor_learner)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Retention:
    rule: str
    due_on: date | None  # None: cannot fall due as things stand
    why_not: str | None = None

    def is_due(self, today: date) -> bool:
        return self.due_on is not None and self.due_on <= today


def retention_of(subject: Subject, cases: list[Case], last_closed_on: date | None, other_years: int) -> Retention:
    """The one rule: which retention period applies to `subject` and when it ends (see the module's docstring)."""
    first_concern = min((c.occurred_at.date() for c in cases), default=subject.created_at.date())
    due_on: date | None
    if subject.subject_type in LEARNERS and subject.date_of_birth and \
            add_years(subject.date_of_birth, 18) > first_concern:
        rule, due_on, why_not = CHILD, add_years(subject.date_of_birth, CHILD_YEARS), None
    elif subject.subject_type == SubjectType.staff:
        left_on = subject.staff_member.left_on if subject.staff_member else None
        rule, due_on = STAFF, add_years(left_on, STAFF_YEARS) if left_on else None
        why_not = None if left_on else "no leaving date: link the subject to a staff record with one"
    else:
        closed = last_closed_on or subject.created_at.date()
        rule, due_on, why_not = OTHER, add_years(closed, other_years), None
    if any(c.status != CaseStatus.closed for c in cases):
        return Retention(rule, None, "a case is open")
    if subject.legal_hold:
        return Retention(rule, None, "on legal hold")
    return Retention(rule, due_on, why_not)


def _retentions(session: Session, subjects: list[Subject]) -> dict[int, Retention]:
    ids = [s.id for s in subjects]
    if not ids:
        return {}
    last_closed = {subject_id: at for subject_id, at in session.execute(
        sa.select(Case.subject_id, sa.func.max(CaseEntry.at)).join(CaseEntry, CaseEntry.case_id == Case.id)
        .where(Case.subject_id.in_(ids), CaseEntry.to_status == CaseStatus.closed.value)
        .group_by(Case.subject_id))}
    cases: dict[int, list[Case]] = {i: [] for i in ids}
    for case in session.scalars(sa.select(Case).where(Case.subject_id.in_(ids))):
        cases[case.subject_id].append(case)
    years = current_app.config["RETENTION_OTHER_YEARS"]
    return {s.id: retention_of(s, cases[s.id], _day(last_closed.get(s.id)), years) for s in subjects}


def _day(at: datetime | None) -> date | None:
    return None if at is None else at.date()


# --- the job ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DueItem:
    """What the Lead approves: no name, no content; the case references, the rule and the date."""

    subject_id: int
    subject_type: str
    rule: str
    due_on: date
    references: list[str]
    approved_by: str | None = None

    def as_dict(self) -> dict:
        return {"subject_id": self.subject_id, "subject_type": self.subject_type, "rule": self.rule,
                "due_on": self.due_on.isoformat(), "references": self.references, "approved_by": self.approved_by}


@dataclass
class RunReport:
    proposed: list[DueItem] = field(default_factory=list)
    erased: list[DueItem] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)  # subjects no longer due: proposal (and approval) withdrawn
    awaiting: list[DueItem] = field(default_factory=list)
    drafts_expired: int = 0  # unsent words kept past DRAFT_HOURS, deleted (app/drafts)

    def __str__(self) -> str:
        lines = [f"Erased: {len(self.erased)}. Newly due: {len(self.proposed)}. Withdrawn: {len(self.withdrawn)}. "
                 f"Awaiting the Prevent Lead's approval: {len(self.awaiting)}. Expired drafts deleted: "
                 f"{self.drafts_expired}."]
        lines += [f"  erased subject {i.subject_id} ({', '.join(i.references)}), {i.rule}, due {i.due_on}"
                  for i in self.erased]
        lines += [f"  awaiting approval: subject {i.subject_id} ({', '.join(i.references)}), {i.rule}, "
                  f"due {i.due_on}" for i in self.awaiting]
        return "\n".join(lines)


def _references(session: Session, subject_id: int) -> list[str]:
    return [format_reference(i, at) for i, at in session.execute(
        sa.select(Case.id, Case.recorded_at).where(Case.subject_id == subject_id).order_by(Case.id))]


def _item(session: Session, subject: Subject) -> DueItem:
    approver = session.get(User, subject.erasure_approved_by_id) if subject.erasure_approved_by_id else None
    assert subject.erasure_rule is not None and subject.erasure_due_on is not None  # proposed for erasure
    return DueItem(subject.id, subject.subject_type.value, subject.erasure_rule, subject.erasure_due_on,
                   _references(session, subject.id), approver.username if approver else None)


RUN_BATCH = 500  # subjects judged per query round; only those whose records change get a transaction


def _decision(subject: Subject, retention: Retention, today: date) -> str | None:
    """What tonight's run does with a subject's records: withdraw a proposal, erase, propose, or nothing."""
    due = retention.is_due(today)
    if subject.erasure_due_on is not None and not due:
        return "withdraw"
    if due and subject.erasure_approved_at is not None:
        return "erase"
    if due and subject.erasure_due_on is None:
        return "propose"
    return None


def run(today: date, progress: Callable[[int, int], None] = lambda done, total: None,
        batch: int = RUN_BATCH) -> RunReport:
    """Erases what the Lead approved that is still due and not on hold, then proposes what has newly fallen due.
    Subjects are judged `batch` at a time; each one whose records change is judged again and changed in a
    transaction of its own, so an erasure and its tombstone land together or not at all. Idempotent. `progress`
    hears (subjects judged, subjects in all) after each batch. Drafts unchanged for DRAFT_HOURS are deleted first."""
    report = RunReport()
    report.drafts_expired = drafts.purge_expired()
    session = db.session
    pending = session.scalars(sa.select(Subject.id).where(Subject.erased_at.is_(None)).order_by(Subject.id)).all()
    for start in range(0, len(pending), batch):
        subjects = session.scalars(sa.select(Subject).where(Subject.id.in_(pending[start:start + batch]))).all()
        retentions = _retentions(session, subjects)
        changing = [s.id for s in subjects if _decision(s, retentions[s.id], today)]
        session.rollback()
        for subject_id in changing:
            with unit_of_work("subject") as work:
                subject = work.get_one(Subject, subject_id)
                retention = _retentions(work, [subject])[subject.id]
                decision = _decision(subject, retention, today)
                if decision == "withdraw":
                    _withdraw(work, subject, retention.why_not or "no longer due")
                    report.withdrawn.append(subject.id)
                elif decision == "erase":
                    item = _item(work, subject)
                    _erase(work, subject, item)
                    report.erased.append(item)
                elif decision == "propose":
                    subject.erasure_due_on, subject.erasure_rule = retention.due_on, retention.rule
                    audit.record(work, SYSTEM, "retention_proposed", subject)
                    report.proposed.append(_item(work, subject))
        progress(min(start + batch, len(pending)), len(pending))
    report.awaiting = awaiting_approval(session)
    session.rollback()
    return report


def _withdraw(session: Session, subject: Subject, why: str) -> None:
    subject.erasure_due_on = subject.erasure_rule = None
    subject.erasure_approved_by_id = subject.erasure_approved_at = None
    audit.record(session, SYSTEM, "retention_withdrawn", subject, reason=f"Not erased: {why}.")


def awaiting_approval(session: Session) -> list[DueItem]:
    subjects = session.scalars(sa.select(Subject).where(Subject.erasure_due_on.is_not(None),
                                                        Subject.erased_at.is_(None))
                               .order_by(Subject.erasure_due_on, Subject.id)).all()
    return [_item(session, s) for s in subjects]


# --- erasure ---------------------------------------------------------------------------------------------------

def _erase(session: Session, subject: Subject, item: DueItem) -> None:
    cases = session.scalars(sa.select(Case).where(Case.subject_id == subject.id)
                            .options(selectinload(Case.indicators), selectinload(Case.actions))).all()
    case_ids = [c.id for c in cases]
    events = session.scalars(sa.select(AuditEvent).where(sa.or_(
        AuditEvent.case_id.in_(case_ids),
        sa.and_(AuditEvent.entity_type == "Subject", AuditEvent.entity_id == str(subject.id)),
        monitoring.alert_events_clause(session, case_ids),
    )).order_by(AuditEvent.seq)).all()
    seals = audit.erase_events(session, [ev for ev in events if ev.reason is not None or ev.changes is not None])
    covers: list[Any] = list(cases)
    for case in cases:
        case.description = ""
        case.location = case.police_incident_number = case.action_taken = case.police_reference = None
        case.vaf_summary = case.exit_reason = case.intervention_provider = None
        case.indicators = []
        for action in case.actions:
            action.title, action.completion_note = "", None
            covers.append(action)
    for review in session.scalars(sa.select(CaseReview).where(CaseReview.case_id.in_(case_ids))):
        review.note = ""
        covers.append(review)
    covers += _erase_concern_extras(session, case_ids)
    covers += parallel_referrals.erase_for_cases(session, case_ids) + referrer_safety.erase_for_cases(session, case_ids)
    covers += monitoring.erase_for_cases(session, case_ids)  # the alerts concerns were raised from
    session.execute(sa.update(CaseEntry).where(CaseEntry.case_id.in_(case_ids))
                    .values(summary="", reason=None, data=sa.null()).execution_options(synchronize_session=False))
    # The entries were blanked in bulk, past the ORM: the tombstone seals them as they are now.
    covers += session.scalars(sa.select(CaseEntry).where(CaseEntry.case_id.in_(case_ids))).all()
    session.execute(sa.update(OutboxEmail).where(OutboxEmail.case_id.in_(case_ids))
                    .values(body="").execution_options(synchronize_session=False))
    drafts.erase_for_cases(session, case_ids)  # anyone's unsent words on these cases
    subject.full_name, subject.name_key = ERASED_NAME, ""
    subject.date_of_birth = subject.learner_ref = subject.employer_id = subject.staff_member_id = None
    subject.legal_hold_reason = None
    subject.erased_at = utcnow()
    audit.record_erasure(session, SYSTEM, subject, erased_events=seals, covers=covers, details={
        "cases": item.references, "rule": item.rule, "due_on": item.due_on, "approved_by": item.approved_by,
        "approved_at": subject.erasure_approved_at, "erased_at": subject.erased_at})


def _erase_concern_extras(session: Session, case_ids: list[int]) -> list[Any]:
    """The files on the cases (their content, name and checksum), the others involved (names, roles,
    relationships) and the referral form's details (address, family, needs...): the rows stay, as the audit trail
    names them, with nothing of the person left in them."""
    erased: list[Any] = []
    for attachment in session.scalars(sa.select(CaseAttachment).where(CaseAttachment.case_id.in_(case_ids))
                                      .options(selectinload(CaseAttachment.file))):
        stored = attachment.file
        stored.data, stored.filename, stored.size, stored.sha256 = b"", ERASED_NAME, 0, ""
        erased += [attachment, stored]
    for person in session.scalars(sa.select(PersonInvolved).where(PersonInvolved.case_id.in_(case_ids))):
        person.name, person.role, person.relation = ERASED_NAME, None, None
        erased.append(person)
    for details in session.scalars(sa.select(ReferralDetails).where(ReferralDetails.case_id.in_(case_ids))):
        for name in REFERRAL_FIELDS:
            setattr(details, name, None)
        erased.append(details)
    return erased


# --- the Prevent Lead's decisions -------------------------------------------------------------------------------

def approve(actor, payload: Any) -> list[int]:
    """The Lead approves the erasure of records awaiting approval; the next run erases them if still due."""
    if not can(actor, "can_approve", "Retention"):
        raise Forbidden()
    with unit_of_work("subject") as session:
        form = APPROVE_ERASURE.check(payload)
        ids, reason = form["subject_ids"], form["reason"]
        subjects = session.scalars(sa.select(Subject).where(Subject.id.in_(ids))).all()
        waiting = [s for s in subjects if s.erasure_due_on is not None and s.erasure_approved_at is None
                   and s.erased_at is None]
        if len(waiting) != len(ids):
            raise Conflict("Some of these records are not awaiting approval (approved already, withdrawn or erased): "
                           "reload the page and choose again.")
        for subject in waiting:
            subject.erasure_approved_by_id, subject.erasure_approved_at = actor.id, utcnow()
            audit.record(session, actor, "retention_approved", subject, reason=reason)
        return ids


def _subject_for_lead(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("subject")
    return subject


def subject_of_case(session: Session, actor, reference: str) -> int:
    """The subject of the case with this reference, for the Lead's forms that start from a case reference."""
    if not can(actor, "can_read", "Retention"):
        raise Forbidden()
    case_id = parse_reference(reference or "")
    subject_id = session.scalar(sa.select(Case.subject_id).where(Case.id == case_id)) if case_id else None
    if subject_id is None:
        raise InvalidData({"reference": ["No case has this reference."]})
    return subject_id


def set_legal_hold(actor, subject_id: int, payload: Any) -> Subject:
    """Puts a subject's records on legal hold (nothing of theirs is erased while held), or takes it off."""
    if not can(actor, "can_legal_hold", "Retention"):
        raise Forbidden()
    with unit_of_work("subject") as session:
        subject = _subject_for_lead(session, subject_id)
        form = LEGAL_HOLD.check(payload)
        hold, reason = form["hold"], form["reason"]
        if subject.erased_at is not None:
            raise Conflict("These records were erased already.")
        if subject.legal_hold == hold:
            raise Conflict("The records are on legal hold already." if hold else "The records are not on legal hold.")
        subject.legal_hold, subject.legal_hold_reason = hold, reason if hold else None
        if hold and subject.erasure_due_on is not None:  # a proposal or approval does not survive a hold
            subject.erasure_due_on = subject.erasure_rule = None
            subject.erasure_approved_by_id = subject.erasure_approved_at = None
        audit.record(session, actor, "legal_hold_set" if hold else "legal_hold_cleared", subject, reason=reason)
        return subject


def link_staff_record(actor, subject_id: int, payload: Any) -> Subject:
    """Links a subject who is a member of staff to their entry on the staff list (by email or employee reference):
    the leaving date recorded there starts their retention period."""
    if not can(actor, "can_link_staff", "Retention"):
        raise Forbidden()
    with unit_of_work("subject") as session:
        subject = _subject_for_lead(session, subject_id)
        form = STAFF_RECORD.read(payload)
        key = form["staff"]
        staff = session.scalar(sa.select(StaffMember).where(sa.or_(
            sa.func.lower(StaffMember.email) == key.strip().lower(), StaffMember.employee_ref == key.strip()))
        ) if key else None
        if key and staff is None:
            form.error("staff", "Nobody on the staff list has this email or employee reference.")
        form.check()
        assert staff is not None  # form.check() refused a missing or unknown staff record
        if subject.erased_at is not None:
            raise Conflict("These records were erased already.")
        if subject.subject_type != SubjectType.staff:
            raise Conflict("Only a concern about a member of staff is kept by their leaving date.")
        if subject.staff_member_id == staff.id:
            raise Conflict("The subject is linked to this staff record already.")
        subject.staff_member_id = staff.id
        audit.record(session, actor, "link_staff_record", subject)
        return subject


def held_subjects(session: Session) -> list[tuple[Subject, list[str]]]:
    return [(s, _references(session, s.id)) for s in session.scalars(
        sa.select(Subject).where(Subject.legal_hold.is_(True)).order_by(Subject.id))]


def overview(session: Session, actor) -> dict:
    """The Lead's retention page: what awaits approval, what is approved, what is held. No names, no content."""
    if not can(actor, "can_read", "Retention"):
        raise Forbidden()
    items = awaiting_approval(session)
    return {"awaiting": [i for i in items if i.approved_by is None],
            "approved": [i for i in items if i.approved_by is not None],
            "held": held_subjects(session)}


# --- the subject access export ----------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, Enum):
        return value.value
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _columns(row) -> dict:
    return {attr.key: _plain(getattr(row, attr.key)) for attr in sa.inspect(type(row)).column_attrs}


def subject_record(session: Session, actor, subject: Subject) -> dict:
    """Everything held about one subject: the subject, every case with its chronology, actions and reviews, the
    audit events about them, and the emails their cases caused."""
    cases = session.scalars(sa.select(Case).where(Case.subject_id == subject.id).order_by(Case.id)
                            .options(selectinload(Case.indicators), selectinload(Case.actions),
                                     selectinload(Case.concern_type))).all()
    case_ids = [c.id for c in cases]
    events = session.scalars(sa.select(AuditEvent).where(sa.or_(
        AuditEvent.case_id.in_(case_ids),
        sa.and_(AuditEvent.entity_type == "Subject", AuditEvent.entity_id == str(subject.id)),
        monitoring.alert_events_clause(session, case_ids),
    )).order_by(AuditEvent.seq)).all()
    emails = session.scalars(sa.select(OutboxEmail).where(OutboxEmail.case_id.in_(case_ids))
                             .order_by(OutboxEmail.id)).all()
    return {
        "subject": _columns(subject),
        "cases": [{
            "reference": case.reference, **_columns(case),
            "concern_type": case.concern_type.label if case.concern_type else None,
            "indicators": [i.label for i in case.indicators],
            "chronology": [{"at": _plain(i.at), "kind": i.kind, "by": i.actor_name, "summary": i.summary,
                            "reason": i.reason, "from_status": i.from_status, "to_status": i.to_status,
                            "data": i.data} for i in chronology(session, actor, case.id)],
            "actions": [_columns(a) for a in case.actions],
            "reviews": [_columns(r) for r in session.scalars(
                sa.select(CaseReview).where(CaseReview.case_id == case.id).order_by(CaseReview.id))],
            "attachments": [{"filename": a.file.filename, "content_type": a.file.content_type, "size": a.file.size,
                             "sha256": a.file.sha256, "added_at": _plain(a.added_at), "added_by": a.added_by.username}
                            for a in session.scalars(sa.select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                                     .order_by(CaseAttachment.id))],
            "others_involved": [{"name": p.name, "role": p.role, "relationship": p.relation}
                                for p in case.people_involved],
            "referral_details": {k: v for k, v in _columns(details).items() if v is not None}
            if (details := session.get(ReferralDetails, case.id)) else None,
        } for case in cases],
        "audit_events": [{k: v for k, v in _columns(ev).items() if k not in ("prev_hash", "hash", "seals")}
                         for ev in events],
        "emails": [{k: _columns(e)[k] for k in ("created_at", "kind", "to_address", "subject", "body", "status",
                                                 "case_id", "sent_at")} for e in emails],
    }


def subject_access_export(actor, subject_id: int, payload: Any) -> Export:
    """The subject access export (JSON or PDF), for the Prevent Lead; audited, and logged as an export of each case."""
    if not can(actor, "can_access_export", "Retention"):
        raise Forbidden()
    fmt = SUBJECT_ACCESS_EXPORT.check(payload)["format"]
    session = db.session
    subject = _subject_for_lead(session, subject_id)
    record = {"exported_at": utcnow().isoformat(), "exported_by": actor.username,
              **subject_record(session, actor, subject)}
    case_ids = [c["id"] for c in record["cases"]]
    with unit_of_work("subject") as work:
        audit.record(work, actor, "subject_access_export", work.get(Subject, subject_id),
                     extra_changes={"format": (None, fmt), "cases": (None, len(case_ids))})
        for case_id in case_ids:
            work.add(AccessLogEntry(user_id=actor.id, case_id=case_id, channel="export",
                                    what=f"subject_access_{fmt}", outside_own_work=False, at=utcnow()))
    name = f"subject-{subject_id}-access-export.{fmt}"
    if fmt == "json":
        return Export(name, "application/json",
                      json.dumps(record, indent=2, ensure_ascii=False, default=str).encode("utf-8"))
    note = (f"Exported {formats.uk_datetime(utcnow())} by {actor.username}. OFFICIAL-SENSITIVE: everything held about "
            "one person, for a subject access request. Share only with that person or their representative.")
    return Export(name, EXPORT_FORMATS["pdf"], exports.subject_access_pdf(record, note))
