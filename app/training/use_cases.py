"""Staff training in the Prevent duty: the staff list, completions and their verification, CSV imports, compliance.

Who sees what is one rule, `training_access_clause` in app/kernel/security.py: every employee their own entry on the
staff list and its records, officers and the Prevent Lead everyone's. Compliance figures need `can_read Compliance`
(which Governance has); the names of who is overdue come only with `can_read_all Training`.

A course is of kind `prevent` (Prevent duty training; every seeded course) or `other`. For the staff list, a person's
latest completion of any course sets their refresher date. For compliance, app/training/requirements.py says who is
current: any current Prevent training for everyone, and every course the Prevent Lead requires of their role or team.
A completion counts once recorded; verification by an officer confirms it, and does not gate it. A course's own
refresher interval, when it has one, replaces the provider's setting for its completions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeAlias

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.kernel import audit, files
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.schemas import Loaded
from app.kernel.security import can, training_access_clause
from app.kernel.uow import unit_of_work
from app.models import StaffMember, StoredFile, Subcontractor, TrainingCourse, TrainingRecord, User, utcnow
from app.training import requirements
from app.training.schemas import COMPLETION, STAFF, STAFF_UPDATE

DUE_SOON = timedelta(days=30)


CERTIFICATE_TYPES = ("pdf", "png", "jpeg")


NO_TEAM = "No team"


Actor: TypeAlias = User | str  # a user, or a system process such as "system:reminders"


class TrainingStatus(StrEnum):
    current = "current"
    due_soon = "due_soon"  # still current, and the refresher falls due within DUE_SOON
    overdue = "overdue"  # the refresher date has passed
    never = "never"  # no training recorded

    @property
    def is_current(self) -> bool:
        return self in (TrainingStatus.current, TrainingStatus.due_soon)


def training_status(refresher_due: date | None, today: date) -> TrainingStatus:
    if refresher_due is None:
        return TrainingStatus.never
    if refresher_due < today:
        return TrainingStatus.overdue
    return TrainingStatus.due_soon if refresher_due <= today + DUE_SOON else TrainingStatus.current


def refresher_due(completed_on: date, course: TrainingCourse | None = None) -> date:
    """When a completion of `course` needs refreshing: its own interval, else the provider's setting."""
    months = course.refresher_months if course is not None and course.refresher_months else None
    return completed_on + relativedelta(months=months or current_app.config["TRAINING_REFRESHER_MONTHS"])


def active_staff_clause(today: date) -> sa.ColumnElement[bool]:
    """Staff who count for compliance: active on the staff list and not yet left."""
    return sa.and_(StaffMember.active.is_(True), sa.or_(StaffMember.left_on.is_(None), StaffMember.left_on > today))


def _latest_training() -> sa.Subquery:
    """Each person's latest completion (a tie on the date goes to the later refresher date)."""
    rank = sa.func.row_number().over(
        partition_by=TrainingRecord.staff_member_id,
        order_by=(TrainingRecord.completed_on.desc(), TrainingRecord.refresher_due.desc(), TrainingRecord.id.desc()),
    ).label("rank")
    ranked = sa.select(TrainingRecord.staff_member_id, TrainingRecord.course_id, TrainingRecord.completed_on,
                       TrainingRecord.refresher_due, TrainingRecord.verified_at, rank).subquery("ranked")
    return sa.select(ranked).where(ranked.c.rank == 1).subquery("latest")


@dataclass
class StaffRow:
    """A person on the staff list with their latest training."""

    staff: StaffMember
    course: str | None
    completed_on: date | None
    refresher_due: date | None
    verified: bool
    status: TrainingStatus
    # For compliance: what they are not current in against the requirements (requirements.py), due soon included.
    outstanding: list[requirements.Outstanding] = field(default_factory=list)

    @property
    def team(self) -> str:
        return self.staff.team or NO_TEAM


def _with_latest_training(where: sa.ColumnElement[bool], today: date,
                          status: TrainingStatus | None = None) -> sa.Select:
    """Staff matching `where` (and, if given, whose latest training has `status` today) with that training."""
    latest = _latest_training()
    query = (sa.select(StaffMember, TrainingCourse.name, latest.c.completed_on, latest.c.refresher_due,
                       latest.c.verified_at)
             .outerjoin(latest, latest.c.staff_member_id == StaffMember.id)
             .outerjoin(TrainingCourse, TrainingCourse.id == latest.c.course_id)
             .where(where))
    return query if status is None else query.where(_status_clause(latest.c.refresher_due, status, today))


def _staff_rows(session: Session, query: sa.Select, today: date) -> list[StaffRow]:
    query = query.options(selectinload(StaffMember.manager), selectinload(StaffMember.user)) \
        .order_by(StaffMember.full_name, StaffMember.id)
    return [StaffRow(staff, course, completed_on, due, verified_at is not None, training_status(due, today))
            for staff, course, completed_on, due, verified_at in session.execute(query)]


def _status_clause(due: sa.ColumnElement, status: TrainingStatus, today: date) -> sa.ColumnElement[bool]:
    return {
        TrainingStatus.never: due.is_(None),
        TrainingStatus.overdue: due < today,
        TrainingStatus.due_soon: due.between(today, today + DUE_SOON),
        TrainingStatus.current: due > today + DUE_SOON,
    }[status]


@dataclass
class StaffFilters:
    search: str | None = None  # part of a name or email, or an employee reference
    team: str | None = None
    status: TrainingStatus | None = None
    leavers: bool = False  # include staff who have left or are inactive


def list_staff(session: Session, actor, filters: StaffFilters, *, today: date | None = None, page: int = 0,
               page_size: int = 25) -> tuple[int, list[StaffRow]]:
    """The staff list with each person's latest training, for officers and the Lead."""
    if not can(actor, "can_read_all", "Training"):
        raise Forbidden()
    today = today or date.today()
    conditions = [training_access_clause(actor)]
    if not filters.leavers:
        conditions.append(active_staff_clause(today))
    if filters.team:
        conditions.append(StaffMember.team.is_(None) if filters.team == NO_TEAM else StaffMember.team == filters.team)
    if filters.search and filters.search.strip():
        pattern = f"%{filters.search.strip().lower()}%"
        conditions.append(sa.or_(sa.func.lower(StaffMember.full_name).like(pattern),
                                 sa.func.lower(StaffMember.email).like(pattern),
                                 sa.func.lower(StaffMember.employee_ref) == filters.search.strip().lower()))
    query = _with_latest_training(sa.and_(*conditions), today, filters.status)
    count = session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    return count, _staff_rows(session, query.limit(page_size).offset(page * page_size), today)


def teams(session: Session) -> list[str]:
    named = session.scalars(sa.select(StaffMember.team).distinct().order_by(StaffMember.team)).all()
    return [*(team for team in named if team is not None), NO_TEAM]


def get_staff(session: Session, actor, staff_id: int) -> StaffMember:
    if not can(actor, "can_read", "Training"):
        raise Forbidden()
    staff = session.scalar(sa.select(StaffMember).where(StaffMember.id == staff_id, training_access_clause(actor))
                           .options(selectinload(StaffMember.training).selectinload(TrainingRecord.course)))
    if staff is None:
        raise NotFound("member of staff")
    return staff


def own_staff(session: Session, actor) -> StaffMember | None:
    """The actor's own entry on the staff list, if they have one yet."""
    return session.scalar(sa.select(StaffMember).where(StaffMember.user_id == actor.id)
                          .options(selectinload(StaffMember.training).selectinload(TrainingRecord.course)))


def _staff_for_user(session: Session, actor: Actor, user: User) -> StaffMember:
    """The user's entry on the staff list: an imported entry with their email is linked to their sign-in, otherwise
    a new entry is added. Two first uses at once (a double click) end with one entry."""
    email = (user.email or "").strip().lower() or None
    same_email = session.scalar(sa.select(StaffMember).where(sa.func.lower(StaffMember.email) == email)) \
        if email else None
    if same_email is not None and same_email.user_id is None:
        same_email.user_id = user.id
        audit.record(session, actor, "link_staff_sign_in", same_email)
        return same_email
    staff = StaffMember(full_name=f"{user.first_name} {user.last_name}".strip(), user_id=user.id, active=True,
                        email=None if same_email is not None else email, created_at=utcnow())
    try:
        with session.begin_nested():  # a second first use at once fails here alone (one entry per user)
            session.add(staff)
            session.flush()
            audit.record(session, actor, "add_staff", staff)
    except IntegrityError:
        return session.execute(sa.select(StaffMember).where(StaffMember.user_id == user.id)).scalar_one()
    return staff


def sync_staff(session: Session, actor: Actor) -> int:
    """Gives every active user with a sign-in an entry on the staff list; returns how many were added or linked."""
    users = session.scalars(sa.select(User).where(
        User.active.is_(True), ~sa.exists().where(StaffMember.user_id == User.id)).order_by(User.id)).all()
    for user in users:
        _staff_for_user(session, actor, user)
    return len(users)


def sync_staff_with_sign_ins(actor) -> int:
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("staff list") as session:
        return sync_staff(session, actor)


def _taken(session: Session, column, value: str | None, staff_id: int | None) -> bool:
    if value is None:
        return False
    query = sa.select(StaffMember.id).where(sa.func.lower(column) == value.lower())
    if staff_id is not None:
        query = query.where(StaffMember.id != staff_id)
    return session.scalar(query) is not None


def _staff_fields(session: Session, form: Loaded, staff_id: int | None = None) -> dict[str, Any]:
    values = {name: form[name] for name in ("full_name", "email", "employee_ref", "team", "left_on")}
    manager = session.get(User, form["manager_id"]) if form["manager_id"] is not None else None
    if form["manager_id"] is not None and (manager is None or not manager.active):
        form.error("manager_id", "Choose someone who signs in here.")
        manager = None
    values["manager_id"] = manager.id if manager else None
    subcontractor = session.get(Subcontractor, form["subcontractor_id"]) \
        if form["subcontractor_id"] is not None else None
    if form["subcontractor_id"] is not None and subcontractor is None:
        form.error("subcontractor_id", "Choose a subcontractor from the list.")
    values["subcontractor_id"] = subcontractor.id if subcontractor else None
    if _taken(session, StaffMember.email, values["email"], staff_id):
        form.error("email", "Someone else on the staff list has this email.")
    if _taken(session, StaffMember.employee_ref, values["employee_ref"], staff_id):
        form.error("employee_ref", "Someone else on the staff list has this employee reference.")
    return values


def flush_staff(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Someone changed the staff list at the same moment: reload it and try again.") from None


def add_staff(actor, payload: Any) -> StaffMember:
    """Adds someone without a sign-in to the staff list (the Lead)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("staff list") as session:
        form = STAFF.read(payload)
        values = _staff_fields(session, form)
        form.check()
        staff = StaffMember(**values, active=True, created_at=utcnow())
        session.add(staff)
        flush_staff(session)
        audit.record(session, actor, "add_staff", staff)
        return staff


def update_staff(actor, staff_id: int, payload: Any) -> StaffMember:
    """Changes a person's details, team, manager, leaving date or whether they are active (the Lead)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("staff list") as session:
        staff = get_staff(session, actor, staff_id)
        form = STAFF_UPDATE.read(payload)
        values = _staff_fields(session, form, staff.id)
        values["active"] = form.get("active", False)
        form.check()
        for name, value in values.items():
            setattr(staff, name, value)
        audit.record(session, actor, "update_staff", staff)
        flush_staff(session)
        return staff


def courses(session: Session) -> Sequence[TrainingCourse]:
    return session.scalars(sa.select(TrainingCourse).where(TrainingCourse.active.is_(True))
                           .order_by(TrainingCourse.id)).all()


def _certificate(actor, form: Loaded) -> StoredFile | None:
    """The certificate file uploaded, if any, kept once its content is checked (errors collected on `form`)."""
    upload = form["certificate"]
    if upload is None:
        return None
    # Read no more than one byte over the limit: enough to refuse it.
    data = upload.stream.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
    try:
        return files.stored_file(upload.filename, data, actor.id, kinds=CERTIFICATE_TYPES)
    except ValueError as exc:
        form.error("certificate", str(exc))
        return None


def record_completion(actor, payload: Any) -> TrainingRecord:
    """A member of staff records a course they completed, with its certificate reference or file (`certificate`:
    an uploaded file, from the page). Their entry on the staff list is made on first use."""
    if not can(actor, "can_record", "Training"):
        raise Forbidden()
    with unit_of_work("training record") as session:
        form = COMPLETION.read(payload)
        course_id = form["course_id"]
        course = session.get(TrainingCourse, course_id) if course_id is not None else None
        if course_id is not None and (course is None or not course.active):
            form.error("course_id", "Choose a course from the list.")
        completed_on, certificate_ref = form["completed_on"], form["certificate_ref"]
        certificate = _certificate(actor, form)
        staff = own_staff(session, actor)
        if staff is not None and course is not None and completed_on is not None and session.scalar(
                sa.select(TrainingRecord.id).where(TrainingRecord.staff_member_id == staff.id,
                                                   TrainingRecord.course_id == course.id,
                                                   TrainingRecord.completed_on == completed_on)):
            form.error("completed_on", "You have recorded this course on this date already.")
        form.check()
        staff = staff or _staff_for_user(session, actor, actor)
        if certificate is not None:
            session.add(certificate)
            session.flush()
            audit.record(session, actor, "upload_certificate", certificate)
        # By id: appending to the person's `training` collection would count as a change to their entry.
        record = TrainingRecord(staff_member_id=staff.id, course=course, completed_on=completed_on,
                                certificate_ref=certificate_ref, certificate_file=certificate,
                                refresher_due=refresher_due(completed_on, course), recorded_by_id=actor.id,
                                recorded_at=utcnow())
        session.add(record)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("You have just recorded this course on this date.") from None
        audit.record(session, actor, "record_training", record)
        return record


def verify_record(actor, record_id: int) -> TrainingRecord:
    """An officer or the Lead confirms a completion someone recorded (never their own)."""
    if not can(actor, "can_verify", "Training"):
        raise Forbidden()
    with unit_of_work("training record") as session:
        record = session.scalar(
            sa.select(TrainingRecord).join(StaffMember, StaffMember.id == TrainingRecord.staff_member_id)
            .where(TrainingRecord.id == record_id, training_access_clause(actor))
            .with_for_update(of=TrainingRecord))  # two officers at once: the second sees the first's verification
        if record is None:
            raise NotFound("training record")
        if record.staff_member.user_id == actor.id:
            raise Conflict("Someone else verifies your own training.")
        if record.verified_at is not None:
            assert record.verified_by is not None  # verified by someone, at a time
            raise Conflict(f"This was verified already, by {record.verified_by.first_name} "
                           f"{record.verified_by.last_name} on {record.verified_at:%d %b %Y}.")
        record.verified_by_id = actor.id
        record.verified_at = utcnow()
        audit.record(session, actor, "verify_training", record)
        return record


def get_record(session: Session, actor, record_id: int) -> TrainingRecord:
    if not can(actor, "can_read", "Training"):
        raise Forbidden()
    record = session.scalar(
        sa.select(TrainingRecord).join(StaffMember, StaffMember.id == TrainingRecord.staff_member_id)
        .where(TrainingRecord.id == record_id, training_access_clause(actor)))
    if record is None:
        raise NotFound("training record")
    return record


def certificate(session: Session, actor, record_id: int) -> StoredFile:
    record = get_record(session, actor, record_id)
    if record.certificate_file is None:
        raise NotFound("certificate")
    return record.certificate_file


@dataclass
class RecordFilters:
    staff_member_id: int | None = None
    verified: bool | None = None


def list_records(session: Session, actor, filters: RecordFilters, *, page: int = 0,
                 page_size: int = 25) -> tuple[int, Sequence[TrainingRecord]]:
    """Training records this user may see, latest first: their own, or everyone's for officers and the Lead."""
    if not can(actor, "can_read", "Training"):
        raise Forbidden()
    conditions = [training_access_clause(actor)]
    if filters.staff_member_id is not None:
        conditions.append(TrainingRecord.staff_member_id == filters.staff_member_id)
    if filters.verified is not None:
        conditions.append(TrainingRecord.verified_at.is_not(None) if filters.verified
                          else TrainingRecord.verified_at.is_(None))
    joined = sa.select(TrainingRecord).join(StaffMember, StaffMember.id == TrainingRecord.staff_member_id) \
        .where(*conditions)
    count = session.execute(sa.select(sa.func.count()).select_from(joined.subquery())).scalar_one()
    records = session.scalars(
        joined.options(selectinload(TrainingRecord.course), selectinload(TrainingRecord.staff_member),
                       selectinload(TrainingRecord.verified_by))
        .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id.desc())
        .limit(page_size).offset(page * page_size)).all()
    return count, records


@dataclass
class Figures:
    """Compliance of a group: staff with current training out of all active staff."""

    label: str
    active: int = 0
    current: int = 0
    due_soon: int = 0  # current, with the refresher due within 30 days
    overdue: int = 0  # the refresher date has passed, or no training recorded

    @property
    def percent(self) -> float | None:
        return round(100 * self.current / self.active, 1) if self.active else None

    def count(self, status: TrainingStatus) -> None:
        self.active += 1
        if status.is_current:
            self.current += 1
        else:
            self.overdue += 1
        if status == TrainingStatus.due_soon:
            self.due_soon += 1


@dataclass
class Compliance:
    today: date
    overall: Figures
    teams: list[Figures]
    # Who is overdue (no current training, never trained included) and due within 30 days: None for a reader of
    # the figures only.
    overdue: list[StaffRow] | None
    due_soon: list[StaffRow] | None
    # Every subcontractor in use (and any retired one with staff on the list), by name: their staff's figures.
    subcontractors: list[Figures] = field(default_factory=list)
    # The Lead's requirements in force (none: any current Prevent training is the whole rule).
    requirements: list = field(default_factory=list)


def against_requirements(session: Session, rows: list[StaffRow], today: date) -> list[StaffRow]:
    """The rows with each person's status and what is outstanding as the requirements say (requirements.py)."""
    standings = requirements.standings(session, (row.staff for row in rows), today)
    for row in rows:
        standing = standings[row.staff.id]
        row.outstanding = standing.outstanding
        if standing.refresher_due is not None:
            row.status = training_status(standing.refresher_due, today)
        else:
            row.status = TrainingStatus.overdue if standing.any_held else TrainingStatus.never
    return rows


def compliance(session: Session, actor, today: date | None = None) -> Compliance:
    if not can(actor, "can_read", "Compliance"):
        raise Forbidden()
    today = today or date.today()
    rows = against_requirements(
        session, _staff_rows(session, _with_latest_training(active_staff_clause(today), today), today), today)
    overall = Figures("All staff")
    by_team: dict[str, Figures] = {}
    subcontractors = session.scalars(sa.select(Subcontractor).order_by(Subcontractor.name)).all()
    by_subcontractor = {s.id: Figures(s.name) for s in subcontractors}
    for row in rows:
        overall.count(row.status)
        by_team.setdefault(row.team, Figures(row.team)).count(row.status)
        if row.staff.subcontractor_id is not None:
            by_subcontractor[row.staff.subcontractor_id].count(row.status)
    team_figures = sorted(by_team.values(), key=lambda figures: (figures.label == NO_TEAM, figures.label))
    named = can(actor, "can_read_all", "Training")
    return Compliance(
        today, overall, team_figures,
        overdue=[row for row in rows if not row.status.is_current] if named else None,
        due_soon=[row for row in rows if row.status == TrainingStatus.due_soon] if named else None,
        subcontractors=[by_subcontractor[s.id] for s in subcontractors if s.active or by_subcontractor[s.id].active],
        requirements=list(requirements.active_requirements(session)),
    )


def needing_training(session: Session, today: date) -> list[StaffRow]:
    """Active staff whose refresher falls due within 30 days, is overdue, or who were never trained: for the
    reminders job, which runs as the system."""
    rows = _staff_rows(session, _with_latest_training(active_staff_clause(today), today), today)
    return [row for row in rows if row.status != TrainingStatus.current]


def overseers(session: Session) -> list[User]:
    """Who hears about overdue training of someone without a manager: the Prevent Lead(s)."""
    people = session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [person for person in people if can(person, "can_manage", "Training")]
