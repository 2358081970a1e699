"""Partner employers: their named Prevent contact, the log of every communication with them about the Prevent duty,
the awareness email with its single-use acknowledgement link, and coverage (active employers with an acknowledged
communication in the last 12 months, over all active employers).

Who may see an employer is one rule, `employer_access_clause` in app/kernel/security.py: every query here filters with
it.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, undefer

from app.employers.schemas import (
    ACKNOWLEDGEMENT,
    ATTACHMENT,
    COMMUNICATION,
    EMPLOYER,
    EMPLOYER_TEXT_FIELDS,
    EMPLOYER_UPDATE,
)
from app.kernel import audit, files
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound, StaleVersion
from app.kernel.schemas import Loaded
from app.kernel.security import can, employer_access_clause, no_hidden_case_clause
from app.kernel.uow import unit_of_work
from app.models import (
    AttachmentKind,
    CommunicationAttachment,
    CommunicationMethod,
    Employer,
    EmployerCommunication,
    StoredFile,
    Subject,
    User,
)

# domain.md: "An employer with no acknowledged communication in the last 12 months is overdue."
COVERAGE_MONTHS = 12


@dataclass(frozen=True)
class Standing:
    """Where an employer stands on its Prevent contact: worked out from its communications, for any day."""

    last_acknowledged_on: date | None
    next_contact_due: date | None  # as its latest communication set it
    # The day it falls (or fell) due a contact: its next contact date, or 12 months after its last acknowledgement
    # if that comes first; for an employer never acknowledged, the day it was recorded.
    due_on: date

    def covered(self, today: date) -> bool:
        """An acknowledged communication in the last 12 months (on the anniversary, still covered)."""
        return (self.last_acknowledged_on is not None
                and today <= self.last_acknowledged_on + relativedelta(months=COVERAGE_MONTHS))


def _standing_select(*where: sa.ColumnElement[bool]) -> sa.Select:
    communication = EmployerCommunication
    last_acknowledged = (sa.select(sa.func.max(communication.acknowledged_on))
                         .where(communication.employer_id == Employer.id).scalar_subquery())
    next_due = (sa.select(communication.next_contact_due).where(communication.employer_id == Employer.id)
                .order_by(communication.occurred_on.desc(), communication.id.desc()).limit(1).scalar_subquery())
    return (sa.select(Employer, last_acknowledged.label("last_acknowledged"), next_due.label("next_due"))
            .where(*where).options(selectinload(Employer.director)))


def _with_standing(session: Session, statement: sa.Select) -> list[tuple[Employer, Standing]]:
    rows = []
    for employer, last_acknowledged, next_due in session.execute(statement).all():
        # Never acknowledged: due from the day it was recorded, since every employer must be made aware.
        acknowledgement_due = (last_acknowledged + relativedelta(months=COVERAGE_MONTHS) if last_acknowledged
                               else employer.created_at.date())
        due_on = min(acknowledgement_due, next_due) if next_due else acknowledgement_due
        rows.append((employer, Standing(last_acknowledged, next_due, due_on)))
    return rows


def default_next_contact(occurred_on: date) -> date:
    return occurred_on + relativedelta(months=current_app.config["EMPLOYER_CONTACT_INTERVAL_MONTHS"])


def list_employers(session: Session, actor, *, active: bool | None = None, page: int = 0,
                   page_size: int = 25) -> tuple[int, list[tuple[Employer, Standing]]]:
    """The employers this user keeps (the Prevent Lead: all), active ones first, by name."""
    if not can(actor, "can_read", "Employer"):
        raise Forbidden()
    where = [employer_access_clause(actor)]
    if active is not None:
        where.append(Employer.active.is_(active))
    count = session.execute(sa.select(sa.func.count()).select_from(Employer).where(*where)).scalar_one()
    statement = (_standing_select(*where).order_by(Employer.active.desc(), Employer.name, Employer.id)
                 .limit(page_size).offset(page * page_size))
    return count, _with_standing(session, statement)


def get_employer(session: Session, actor, employer_id: int) -> tuple[Employer, Standing]:
    if not can(actor, "can_read", "Employer"):
        raise Forbidden()
    found = _with_standing(session, _standing_select(Employer.id == employer_id, employer_access_clause(actor)))
    if not found:
        raise NotFound("employer")
    return found[0]


def apprentices(session: Session, actor, employer: Employer) -> Sequence[Subject]:
    """The people recorded as placed with this employer; never one a concern was raised about that the user may not
    work on (for a Programme Director, anyone a concern was raised about), since that a concern exists is case data."""
    return session.scalars(sa.select(Subject).where(Subject.employer_id == employer.id, no_hidden_case_clause(actor))
                           .order_by(Subject.full_name, Subject.id)).all()


def communications(session: Session, actor, employer_id: int) -> Sequence[EmployerCommunication]:
    """The employer's communications log, latest first, with attachments and who logged each."""
    get_employer(session, actor, employer_id)
    return session.scalars(
        sa.select(EmployerCommunication).where(EmployerCommunication.employer_id == employer_id)
        .options(selectinload(EmployerCommunication.attachments).selectinload(CommunicationAttachment.file),
                 selectinload(EmployerCommunication.created_by))
        .order_by(EmployerCommunication.occurred_on.desc(), EmployerCommunication.id.desc())
    ).all()


def attachment_file(session: Session, actor, employer_id: int, attachment_id: int) -> StoredFile:
    """A file attached to a communication of an employer the user may see, with its content."""
    if not can(actor, "can_read", "Employer"):
        raise Forbidden()
    stored = session.scalar(
        sa.select(StoredFile).join(CommunicationAttachment, CommunicationAttachment.file_id == StoredFile.id)
        .join(EmployerCommunication).join(Employer)
        .where(CommunicationAttachment.id == attachment_id, Employer.id == employer_id, employer_access_clause(actor))
        .options(undefer(StoredFile.data))
    )
    if stored is None:
        raise NotFound("file")
    return stored


def director_choices(session: Session) -> list[User]:
    """Active users whose role keeps employers: who an employer can be given to."""
    people = session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.first_name, User.id)).all()
    return [person for person in people if can(person, "can_edit", "Employer")]


def employer_for_work(session: Session, actor, employer_id: int) -> Employer:
    employer = session.scalar(sa.select(Employer).where(Employer.id == employer_id, employer_access_clause(actor)))
    if employer is None:
        raise NotFound("employer")
    return employer


def _employer_fields(session: Session, actor, form: Loaded, employer: Employer | None) -> dict[str, Any]:
    """The details sent, parsed and checked: every field for a new employer; for a change, the fields sent."""
    sent = set(form.payload) if employer is not None else None
    values: dict[str, Any] = {}
    for name in EMPLOYER_TEXT_FIELDS:
        if sent is None or name in sent:
            if name == "name":
                form.require(name)  # a change may leave it out, but not blank it
            values[name] = form[name]
    if sent is None or "active" in sent:
        values["active"] = form.get("active", True)
    if sent is None or "director_id" in sent:
        values["director_id"] = _director(session, actor, form, employer)
    employer_name = values.get("name")
    if employer_name:
        same_name = sa.select(Employer.id).where(sa.func.lower(Employer.name) == employer_name.lower())
        if employer is not None:
            same_name = same_name.where(Employer.id != employer.id)
        if session.scalar(same_name) is not None:
            form.error("name", "An employer with this name is recorded already.")
    return values


def _director(session: Session, actor, form: Loaded, employer: Employer | None) -> int | None:
    """The responsible programme director: a Programme Director keeps their own; the Lead chooses anyone who may."""
    if not can(actor, "can_read_all", "Employer"):
        director_id = form.get("director_id", actor.id)
        if director_id != actor.id:
            form.error("director_id", "You keep your own employers: the Prevent Lead can give one to another "
                                      "programme director.")
        return director_id
    form.require("director_id")
    director_id = form["director_id"]
    person = session.get(User, director_id) if director_id is not None else None
    if director_id is not None and (person is None or not person.is_active or not can(person, "can_edit", "Employer")):
        form.error("director_id", "Choose a programme director.")
    return director_id


def _flush_named(session: Session) -> None:
    """Writes the employer; a name taken by someone saving at the same moment is a field error, as if checked."""
    try:
        session.flush()
    except IntegrityError:
        raise InvalidData({"name": ["An employer with this name is recorded already."]}) from None


def create_employer(actor, payload: Any) -> Employer:
    if not can(actor, "can_create", "Employer"):
        raise Forbidden()
    with unit_of_work("employer") as session:
        form = EMPLOYER.read(payload)
        values = _employer_fields(session, actor, form, None)
        form.check()
        employer = Employer(**values)
        session.add(employer)
        _flush_named(session)
        audit.record(session, actor, "create_employer", employer)
        return employer


def update_employer(actor, employer_id: int, payload: Any) -> Employer:
    """Changes the details sent; with `version`, refuses (409) if someone changed the employer since it was read."""
    if not can(actor, "can_edit", "Employer"):
        raise Forbidden()
    with unit_of_work("employer") as session:
        employer = employer_for_work(session, actor, employer_id)
        form = EMPLOYER_UPDATE.read(payload)
        values = _employer_fields(session, actor, form, employer)
        version = form["version"]
        form.check()
        if version is not None and version != employer.version:
            raise StaleVersion(what="employer")
        for name, value in values.items():
            setattr(employer, name, value)
        audit.record(session, actor, "update_employer", employer)
        _flush_named(session)
        return employer


def _communication_for_work(session: Session, actor, employer_id: int, communication_id: int) -> EmployerCommunication:
    communication = session.scalar(
        sa.select(EmployerCommunication).join(Employer)
        .where(EmployerCommunication.id == communication_id, Employer.id == employer_id, employer_access_clause(actor)))
    if communication is None:
        raise NotFound("communication")
    return communication


def _acknowledgement(form: Loaded, occurred_on: date | None) -> tuple[date | None, str | None]:
    """When and by whom a communication was acknowledged: both or neither, on or after the communication."""
    acknowledged_on, acknowledged_by = form["acknowledged_on"], form["acknowledged_by"]
    if acknowledged_on and not acknowledged_by and "acknowledged_by" not in form.errors:
        form.error("acknowledged_by", "Say who acknowledged it.")
    if acknowledged_by and not acknowledged_on and "acknowledged_on" not in form.errors:
        form.error("acknowledged_on", "Say when it was acknowledged.")
    if acknowledged_on and occurred_on and acknowledged_on < occurred_on:
        form.error("acknowledged_on", "An acknowledgement comes on or after the communication.")
    return acknowledged_on, acknowledged_by


def log_communication(actor, employer_id: int, payload: Any) -> EmployerCommunication:
    """Records a contact with the employer about the Prevent duty; the next contact falls due
    EMPLOYER_CONTACT_INTERVAL_MONTHS later unless another date is given."""
    if not can(actor, "can_edit", "Employer"):
        raise Forbidden()
    with unit_of_work("communication") as session:
        employer = employer_for_work(session, actor, employer_id)
        form = COMMUNICATION.read(payload)
        occurred_on, method, shared, summary = form["occurred_on"], form["method"], form["shared"], form["summary"]
        acknowledged_on, acknowledged_by = _acknowledgement(form, occurred_on)
        next_due = form["next_contact_due"]
        if next_due and occurred_on and next_due <= occurred_on:
            form.error("next_contact_due", "The next contact falls after this one.")
        form.check()
        communication = EmployerCommunication(
            employer_id=employer.id, occurred_on=occurred_on, method=CommunicationMethod(method), shared=shared,
            summary=summary, acknowledged_on=acknowledged_on, acknowledged_by=acknowledged_by,
            next_contact_due=next_due or default_next_contact(occurred_on), created_by_id=actor.id)
        session.add(communication)
        session.flush()
        audit.record(session, actor, "log_communication", communication)
        return communication


def record_acknowledgement(actor, employer_id: int, communication_id: int, payload: Any) -> EmployerCommunication:
    """An acknowledgement that came back later (a signed letter, a reply): it also retires the email's link."""
    if not can(actor, "can_edit", "Employer"):
        raise Forbidden()
    with unit_of_work("communication") as session:
        communication = _communication_for_work(session, actor, employer_id, communication_id)
        form = ACKNOWLEDGEMENT.read(payload)
        acknowledged_on, acknowledged_by = _acknowledgement(form, communication.occurred_on)
        version = form["version"]
        form.check()
        if version is not None and version != communication.version:
            raise StaleVersion(what="communication")
        if communication.acknowledged_on is not None:
            raise Conflict("This communication is acknowledged already.")
        communication.acknowledged_on = acknowledged_on
        communication.acknowledged_by = acknowledged_by
        communication.ack_nonce = None
        audit.record(session, actor, "record_acknowledgement", communication)
        return communication


def add_attachment(actor, employer_id: int, communication_id: int, payload: Any, filename: str,
                   data: bytes) -> CommunicationAttachment:
    """Attaches a file (the briefing given, the signed acknowledgement) of an allowed type and size."""
    if not can(actor, "can_edit", "Employer"):
        raise Forbidden()
    with unit_of_work("communication") as session:
        communication = _communication_for_work(session, actor, employer_id, communication_id)
        form = ATTACHMENT.read(payload)
        kind = form["kind"]
        try:
            stored = files.stored_file(filename, data, actor.id)
        except ValueError as exc:
            form.error("file", str(exc))
        form.check()
        attachment = CommunicationAttachment(communication_id=communication.id, kind=AttachmentKind(kind), file=stored)
        session.add_all([stored, attachment])
        session.flush()
        audit.record(session, actor, "upload_file", stored)
        audit.record(session, actor, "add_attachment", attachment)
        return attachment


@dataclass(frozen=True)
class Figures:
    active: int
    covered: int

    @property
    def overdue(self) -> int:
        return self.active - self.covered

    @property
    def percent(self) -> float | None:
        return round(100 * self.covered / self.active, 1) if self.active else None


@dataclass(frozen=True)
class DirectorFigures:
    director: str  # their name for those who see employers, a pseudonym for those who see figures only
    director_id: int | None
    figures: Figures


@dataclass(frozen=True)
class Coverage:
    as_of: date
    overall: Figures
    by_director: list[DirectorFigures]
    overdue: list[tuple[Employer, Standing]] | None  # None for those who see figures only


def _figures(rows: list[tuple[Employer, Standing]], today: date) -> Figures:
    return Figures(active=len(rows), covered=sum(1 for _, standing in rows if standing.covered(today)))


def coverage(session: Session, actor, today: date) -> Coverage:
    """Active employers with an acknowledged communication in the last 12 months, over active employers: overall and
    per programme director; with the overdue employers the user may see. Inactive employers count nowhere."""
    if not can(actor, "can_read", "Coverage"):
        raise Forbidden()
    rows = _with_standing(session, _standing_select(Employer.active.is_(True)))
    named = can(actor, "can_read_all", "Employer")
    groups: dict[int | None, list[tuple[Employer, Standing]]] = defaultdict(list)
    for row in rows:
        groups[row[0].director_id].append(row)
    by_director = []
    for number, director_id in enumerate(sorted(groups, key=lambda key: (key is None, key or 0)), start=1):
        director = groups[director_id][0][0].director
        if director is None:
            label = "No programme director"
        else:
            label = f"{director.first_name} {director.last_name}" if named else f"Programme director {number}"
        by_director.append(DirectorFigures(label, director_id if named else None,
                                           _figures(groups[director_id], today)))
    overdue = None
    if can(actor, "can_read", "Employer"):
        visible = _with_standing(session, _standing_select(Employer.active.is_(True), employer_access_clause(actor))
                                 .order_by(Employer.name, Employer.id))
        overdue = [(employer, standing) for employer, standing in visible if not standing.covered(today)]
    return Coverage(today, _figures(rows, today), by_director, overdue)


def due_for_contact(session: Session, today: date) -> list[tuple[Employer, Standing]]:
    """Active employers that have fallen due a contact, with an active director who keeps employers to remind."""
    rows = _with_standing(session, _standing_select(Employer.active.is_(True), Employer.director_id.is_not(None))
                          .order_by(Employer.id))
    return [(employer, standing) for employer, standing in rows if standing.due_on <= today
            and employer.director is not None  # none without a director_id, which the query requires
            and employer.director.is_active and can(employer.director, "can_edit", "Employer")]
