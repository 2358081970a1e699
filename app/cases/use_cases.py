"""Cases: raising a concern, moving it through the workflow, immediate risk, notes, and reading what a user may see.

Pages and the API open a case through read_case, read_chronology and read_audit_trail, which log each opening in the
access log (app/kernel/access_log.py); the unlogged reads (get_case, chronology, audit_trail) serve a page already
logged, the exports (which log themselves) and the services."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, aliased, selectinload

from app.cases import attachments, involved, pathway_facts
from app.cases.attachments import Upload
from app.cases.schemas import CONCERN, NOTE, RISK
from app.cases.subjects import matches_subject, subject_from_payload
from app.extensions import db
from app.kernel import access_log, audit, workflow
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound, StaleVersion
from app.kernel.schemas import Loaded
from app.kernel.security import (
    CaseAccess,
    can,
    case_access,
    case_workers,
    full_access_clause,
    visible_cases_clause,
    visible_subjects_clause,
)
from app.kernel.uow import unit_of_work
from app.kernel.validation import is_blank
from app.models import (
    ActionStatus,
    AuditEvent,
    Case,
    CaseAccessGrant,
    CaseAction,
    CaseEntry,
    CaseStatus,
    ConcernType,
    EmailStatus,
    Indicator,
    OutboxEmail,
    Subject,
    SubjectType,
    parse_reference,
    stalled_clause,
    utcnow,
)
from app.notifications import notify


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in data.items() if v is not None}


def add_entry(session: Session, case: Case, actor, kind: str, summary: str, *, reason: str | None = None,
           from_status: str | None = None, to_status: str | None = None, data: dict | None = None) -> None:
    session.add(CaseEntry(case_id=case.id, actor_id=actor.id, kind=kind, summary=summary, reason=reason,
                          from_status=from_status, to_status=to_status, data=_jsonable(data or {}) or None))


def load_case_for_work(session: Session, actor, case_id: int) -> Case:
    """The case, for a change by an officer or the Lead: 404 when the user may not see it at all."""
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    return session.get_one(Case, case_id)


# --- raising a concern ------------------------------------------------------------------------------------------

def raise_concern(actor, payload: Any, *, naive_zone: tzinfo = UTC, uploads: Sequence[Upload] = (),
                  raised_from: Callable[[Session, Case], None] | None = None) -> Case:
    """Any employee raises a concern about an existing subject (subject_id) or a new one (subject: {...}), with the
    others involved (others_involved: [...]) and files (`uploads`), both optional. `raised_from` links the record the
    concern was raised from (a monitoring alert) to the new case, in the same transaction."""
    if not can(actor, "can_raise"):
        raise Forbidden()
    with unit_of_work() as session:
        form = CONCERN.read(payload, zone=naive_zone)
        subject, new_subject = _concern_subject(session, actor, form)
        description, occurred_at, location = form["description"], form["occurred_at"], form["location"]
        concern_type_id = form["concern_type_id"]
        immediate_danger = form.get("immediate_danger", False)
        if immediate_danger:
            form.require("police_called")
        police_called = form.get("police_called", False)
        incident, action_taken = form["police_incident_number"], form["action_taken"]
        dso_informed = form.get("dso_informed_verbally", False)
        indicators = _active(session, Indicator, form.get("indicator_ids", []), form, "indicator_ids")
        if concern_type_id is not None:
            _active(session, ConcernType, [concern_type_id], form, "concern_type_id")
        others, stored = involved.parse(form), attachments.check_uploads(form.error, uploads, actor)
        form.check()

        case = Case(
            subject=subject, reporter_id=actor.id, description=description, occurred_at=occurred_at,
            location=location, concern_type_id=concern_type_id, immediate_danger=immediate_danger,
            police_called=police_called, police_incident_number=incident, action_taken=action_taken,
            dso_informed_verbally=dso_informed, indicators=indicators, urgent=immediate_danger,
            status=CaseStatus.reported, recorded_at=utcnow(),
            # Concerns about colleagues are need-to-know even among officers.
            restricted=subject.subject_type == SubjectType.staff,
        )
        session.add(case)
        session.flush()
        if new_subject:
            audit.record(session, actor, "create_subject", subject)
        audit.record(session, actor, "raise_concern", case, to_status=CaseStatus.reported.value,
                     extra_changes={"indicator_ids": (None, sorted(i.id for i in indicators))})
        add_entry(session, case, actor, "concern_raised", "Concern raised", to_status=CaseStatus.reported.value)
        if case.restricted:
            _route_to_leads(session, case, actor)
        involved.add(session, actor, case, others)
        attachments.keep(session, actor, case, stored)
        if immediate_danger:
            add_entry(session, case, actor, "immediate_risk",
                   "Immediate danger reported at intake" + ("; police called" if police_called else ""),
                   data={"police_called": police_called, "police_incident_number": incident})
        if raised_from is not None:
            raised_from(session, case)
        notify.concern_raised(session, case)
        return case


def _route_to_leads(session: Session, case: Case, reporter) -> None:
    """A concern about a colleague goes to the Prevent Lead (each, if there are several), who then decides which
    officers need to know. Any other Lead who needs it later breaks glass, or is granted it."""
    leads = [person for person in case_workers(session) if can(person, "can_grant_access")]
    grants = [CaseAccessGrant(case_id=case.id, user_id=lead.id, granted_by_id=reporter.id) for lead in leads]
    session.add_all(grants)
    session.flush()
    for lead, grant in zip(leads, grants, strict=True):
        audit.record(session, reporter, "route_to_lead", grant, reason="A concern about a colleague goes to the Lead.")
        add_entry(session, case, reporter, "access_granted", f"Sent to {lead.username}, the Prevent Lead")


def _concern_subject(session: Session, actor, form: Loaded) -> tuple[Subject, bool]:
    """The subject named by id, or a new one from the details given; and whether it is new."""
    subject_id = form["subject_id"]
    if subject_id is not None:
        details = form.raw("subject")
        # The page sends its empty boxes with a chosen person; an API client sends a subject or null, never both.
        if _has_details(details) or (form.strict and details is not None):
            form.error("subject", "Choose a person from the list or enter their details, not both.")
        # Only a subject the user may look up, or one they recorded themselves: ids must not reveal who else is of
        # concern (to staff at all, to officers where the case about them is restricted).
        subject = session.scalar(sa.select(Subject).where(
            Subject.id == subject_id, sa.or_(visible_subjects_clause(actor), Subject.created_by_id == actor.id)))
        if subject is None:
            form.error("subject_id", "Choose a person from the list or enter their details.")
            return Subject(), False
        return subject, False
    sub_form = form.nested("subject")
    if sub_form is None:
        form.error("subject", "Say who the concern is about.")
        return Subject(), False
    return subject_from_payload(session, actor, sub_form), True


def _has_details(details: Any) -> bool:
    """Whether anything was entered about a new subject (the page sends its empty boxes with a chosen person)."""
    if isinstance(details, dict):
        return any(not is_blank(value) for value in details.values())
    return not is_blank(details)


def _active(session: Session, model, ids: list[int], form: Loaded, field_name: str) -> list:
    if not ids:
        return []
    found = session.scalars(sa.select(model).where(model.id.in_(ids), model.active.is_(True))).all()
    if len(found) != len(ids):
        form.error(field_name, "Choose from the options offered.")
    return list(found)


# --- the workflow ---------------------------------------------------------------------------------------------

def transition(actor, case_id: int, payload: Any) -> Case:
    """Takes a workflow event on a case: checked against the table in app/kernel/workflow.py, audited, all or
    nothing."""
    if not isinstance(payload, dict):
        raise InvalidData({"_schema": ["Send a JSON object."]})
    event = payload.get("event")
    try:
        with unit_of_work() as session:
            case = load_case_for_work(session, actor, case_id)
            if not isinstance(event, str) or not event:
                raise InvalidData({"event": ["Say which event to take."]})
            expected_version = payload.get("version")
            if expected_version is not None and expected_version != case.version:
                raise StaleVersion(case.status.value)
            step = workflow.plan(event, case.status, payload, pathway_facts.facts_for(session, case))
            if not can(actor, step.transition.permission):
                raise Forbidden(f"Your role may not take '{event}'.")
            from_status = case.status
            case.status = step.target
            case.closure_outcome = step.outcome
            for spec in step.transition.fields:
                if spec.column:
                    setattr(case, spec.column, step.data[spec.name])
            audit.record(session, actor, event, case, reason=step.reason, from_status=from_status.value,
                         to_status=step.target.value)
            outcome = {"closure_outcome": step.outcome.value} if step.outcome else {}
            add_entry(session, case, actor, "transition", step.transition.label, reason=step.reason,
                   from_status=from_status.value, to_status=step.target.value, data={**step.data, **outcome})
            notify.after_transition(session, case, event)
            return case
    except StaleVersion as exc:
        raise StaleVersion(_current_status(case_id)) from exc


def _current_status(case_id: int) -> str | None:
    status = db.session.scalar(sa.select(Case.status).where(Case.id == case_id))
    db.session.rollback()
    return status.value if status else None


def record_immediate_risk(actor, case_id: int, payload: Any) -> Case:
    """999 was called: an audited event that marks the case urgent. Allowed on any open case."""
    if not can(actor, "can_record_risk"):
        raise Forbidden()
    with unit_of_work() as session:
        if case_access(session, actor, case_id) is CaseAccess.NONE:
            raise NotFound("case")
        case = session.get_one(Case, case_id)
        if not case.is_open:
            raise Conflict("The case is closed: reopen it before recording a new risk.", case.status.value)
        form = RISK.check(payload)
        police_called, incident, note = form["police_called"], form["police_incident_number"], form["note"]
        case.urgent = True
        case.police_called = case.police_called or police_called
        if incident:
            case.police_incident_number = incident
        audit.record(session, actor, "immediate_risk", case, reason=note)
        add_entry(session, case, actor, "immediate_risk",
               "Immediate risk recorded" + ("; police called" if police_called else ""), reason=note,
               data={"police_called": police_called, "police_incident_number": incident})
        return case


def add_note(actor, case_id: int, payload: Any) -> CaseEntry:
    """Check: what was gathered and from whom, advice sought, or a plain note."""
    if not can(actor, "can_transition"):
        raise Forbidden()
    with unit_of_work() as session:
        case = load_case_for_work(session, actor, case_id)
        form = NOTE.check(payload)
        kind, text, source = form["kind"], form["text"], form["source"]
        entry = CaseEntry(case_id=case.id, actor_id=actor.id, kind=kind,
                          summary=kind.replace("_", " ").capitalize() + (f" (from {source})" if source else ""),
                          reason=text, data={"source": source} if source else None)
        session.add(entry)
        audit.record(session, actor, "add_note", entry, case_id=case.id)
        return entry


# --- reading --------------------------------------------------------------------------------------------------

@dataclass
class CaseView:
    case: Case
    access: CaseAccess


def get_case(session: Session, actor, case_id: int) -> CaseView:
    if not can(actor, "can_read"):
        raise Forbidden()
    access = case_access(session, actor, case_id)
    if access is CaseAccess.NONE:
        raise NotFound("case")
    return CaseView(session.get_one(Case, case_id), access)


def own_concern(session: Session, actor, case_id: int) -> Case:
    """A concern as its reporter raised it: the receipt every employee gets, whatever their role may read."""
    case = session.get(Case, case_id)
    if case is None or case.reporter_id != actor.id:
        raise NotFound("case")
    return case


def overdue_clause(today: date) -> sa.ColumnElement[bool]:
    return sa.exists().where(CaseAction.case_id == Case.id, CaseAction.status == ActionStatus.open,
                             CaseAction.due_date < today)


@dataclass
class CaseFilters:
    status: CaseStatus | None = None
    concern_type_id: int | None = None
    urgent: bool | None = None
    overdue: bool | None = None
    action_owner_id: int | None = None
    subject_id: int | None = None
    reporter_id: int | None = None
    search: str | None = None  # a case reference, or part of the subject's name, or a learner reference
    stalled: bool | None = None


class CaseRow(NamedTuple):
    case: Case
    overdue: bool  # has an open action past its due date
    stalled: bool  # open, with no chronology entry for STALLED_AFTER_DAYS


def is_stalled(session: Session, case_id: int) -> bool:
    return bool(session.scalar(sa.select(stalled_clause(utcnow(), current_app.config["STALLED_AFTER_DAYS"]))
                               .where(Case.id == case_id)))


def list_cases(session: Session, actor, filters: CaseFilters, *, page: int = 0, page_size: int = 25,
               today: date | None = None) -> tuple[int, list[CaseRow]]:
    """The cases this user may see, most urgent first: (count, rows)."""
    if not can(actor, "can_read"):
        raise Forbidden()
    today = today or date.today()
    overdue = overdue_clause(today)
    stalled = stalled_clause(utcnow(), current_app.config["STALLED_AFTER_DAYS"])
    conditions = [visible_cases_clause(actor)]
    if filters.status is not None:
        conditions.append(Case.status == filters.status)
    if filters.concern_type_id is not None:
        conditions.append(Case.concern_type_id == filters.concern_type_id)
    if filters.urgent is not None:
        conditions.append(Case.urgent.is_(filters.urgent))
    if filters.overdue is not None:
        conditions.append(overdue if filters.overdue else ~overdue)
    if filters.stalled is not None:
        conditions.append(stalled if filters.stalled else ~stalled)
    if filters.action_owner_id is not None:
        conditions.append(sa.exists().where(CaseAction.case_id == Case.id,
                                            CaseAction.owner_id == filters.action_owner_id,
                                            CaseAction.status == ActionStatus.open))
    if filters.subject_id is not None:
        conditions.append(Case.subject_id == filters.subject_id)
    if filters.reporter_id is not None:
        conditions.append(Case.reporter_id == filters.reporter_id)
    if filters.search and filters.search.strip():
        case_id = parse_reference(filters.search)
        conditions.append(Case.id == case_id if case_id is not None else
                          Case.subject_id.in_(sa.select(Subject.id).where(matches_subject(filters.search))))
    where = sa.and_(*conditions)
    count = session.execute(sa.select(sa.func.count()).select_from(Case).where(where)).scalar_one()
    overdue_flag = overdue.label("overdue")
    stalled_flag = stalled.label("stalled")
    rows = session.execute(
        sa.select(Case, overdue_flag, stalled_flag).where(where)
        .options(selectinload(Case.subject), selectinload(Case.concern_type))
        .order_by(Case.urgent.desc(), overdue_flag.desc(), (Case.status == CaseStatus.reported).desc(),
                  Case.recorded_at.desc(), Case.id.desc())
        .limit(page_size).offset(page * page_size)
    ).all()
    return count, [CaseRow(case, bool(overdue_flag), bool(stalled_flag)) for case, overdue_flag, stalled_flag in rows]


@dataclass(frozen=True)
class ChronologyItem:
    """One line of a case's story: an entry officers wrote or a decision took, or an email the case caused."""

    at: datetime
    kind: str
    actor: str  # a username, or "system"
    actor_name: str
    summary: str
    reason: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    data: dict = field(default_factory=dict)

    @classmethod
    def from_entry(cls, entry: CaseEntry) -> ChronologyItem:
        return cls(entry.at, entry.kind, entry.actor.username, f"{entry.actor.first_name} {entry.actor.last_name}",
                   entry.summary, entry.reason, entry.from_status, entry.to_status, entry.data or {})

    @classmethod
    def from_email(cls, email: OutboxEmail) -> ChronologyItem:
        person = email.recipient
        assert person is not None  # a case's emails are to its officers, each a user
        return cls(email.created_at, "email", "system", "Prevent Casework",
                   f"Email to {person.first_name} {person.last_name}: {notify.KINDS.get(email.kind, email.kind)}",
                   data={"recipient": person.username, "delivery": _delivery(email)})


def _delivery(email: OutboxEmail) -> str:
    if email.status == EmailStatus.sent:
        assert email.sent_at is not None  # marked sent with the time it was
        return f"delivered {email.sent_at.isoformat(timespec='seconds')}"
    if email.status == EmailStatus.digested and email.digest_id is not None:
        digest = db.session.get(OutboxEmail, email.digest_id)
        sent = f", delivered {digest.sent_at.isoformat(timespec='seconds')}" if digest.sent_at else ""
        return "in the daily digest" + sent
    return {EmailStatus.held: "held for the daily digest", EmailStatus.failed: "failed: the Admin has been shown it"
            }.get(email.status, "waiting to be sent")


def chronology(session: Session, actor, case_id: int) -> list[ChronologyItem]:
    """Everything on a case in time order: entries, decisions, actions, outcomes, and the emails it caused."""
    if get_case(session, actor, case_id).access is not CaseAccess.FULL:
        raise NotFound("case")
    entries = session.scalars(
        sa.select(CaseEntry).where(CaseEntry.case_id == case_id).options(selectinload(CaseEntry.actor))
        .order_by(CaseEntry.at, CaseEntry.id)
    ).all()
    emails = session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.case_id == case_id).options(selectinload(OutboxEmail.recipient))
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    ).all()
    items = [ChronologyItem.from_entry(e) for e in entries] + [ChronologyItem.from_email(e) for e in emails]
    return sorted(items, key=lambda item: item.at)  # stable: entries before the emails they caused


def same_person_clause(this, other) -> sa.ColumnElement[bool]:
    """Two subject records are one person: the same record, learner reference, or name and date of birth."""
    return sa.or_(
        other.id == this.id,
        sa.and_(this.learner_ref.is_not(None), other.learner_ref == this.learner_ref),
        sa.and_(this.date_of_birth.is_not(None), other.name_key == this.name_key,
                other.date_of_birth == this.date_of_birth),
    )


def repeat_referral_clause() -> sa.ColumnElement[bool]:
    """Cases with an earlier concern about the same person (in any case, whoever may see it)."""
    this, other, earlier = aliased(Subject), aliased(Subject), aliased(Case)
    return sa.exists().where(this.id == Case.subject_id, earlier.subject_id == other.id, earlier.id != Case.id,
                             earlier.recorded_at < Case.recorded_at, same_person_clause(this, other))


def earlier_concerns(session: Session, actor, case: Case) -> Sequence[Case]:
    """Other concerns about the same person that this user may see."""
    this = aliased(Subject)
    return session.scalars(
        sa.select(Case).join(Subject, Case.subject_id == Subject.id).join(this, this.id == case.subject_id)
        .where(same_person_clause(this, Subject), Case.id != case.id, full_access_clause(actor))
        .order_by(Case.recorded_at)
    ).all()


def audit_trail(session: Session, actor, case_id: int):
    if not can(actor, "can_read_audit"):
        raise Forbidden()
    if case_access(session, actor, case_id) is not CaseAccess.FULL:
        raise NotFound("case")
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)).all()



# --- opening a case: the reads a page or the API shows, each logged in the access log -----------------------------

def read_case(actor, case_id: int, channel: str, what: str = "case") -> CaseView:
    """Opens a case by page or API (`channel`): as much of it as `actor` may see, the opening logged. `what` names
    what the caller shows ("case", or "review" for the Lead's review page). A refusal (403, 404) logs nothing."""
    if not can(actor, "can_read"):
        raise Forbidden()
    with unit_of_work() as session:
        access = case_access(session, actor, case_id)
        if access is CaseAccess.NONE:
            raise NotFound("case")
        access_log.record_opening(session, actor, case_id, channel, what)
    return CaseView(db.session.get(Case, case_id), access)


def read_chronology(actor, case_id: int, channel: str) -> list[ChronologyItem]:
    """The chronology (see `chronology`), its reading logged."""
    items = chronology(db.session, actor, case_id)
    with unit_of_work() as session:
        access_log.record_opening(session, actor, case_id, channel, "chronology")
    return items


def read_audit_trail(actor, case_id: int, channel: str) -> list[AuditEvent]:
    """The case's audit trail (the Lead's), its reading logged."""
    events = audit_trail(db.session, actor, case_id)
    with unit_of_work() as session:
        access_log.record_opening(session, actor, case_id, channel, "audit")
    return events
