"""Staff training in the Prevent duty: the staff list, completions and their verification, CSV imports, compliance.

Who sees what is one rule, `training_access_clause` in app/security.py: every employee their own entry on the staff
list and its records, officers and the Prevent Lead everyone's. Compliance figures need `can_read Compliance` (which
Governance has); the names of who is overdue come only with `can_read_all Training`.

Every course in the training_course table is Prevent training (the table holds nothing else), so a completion of any
of them, retired ones included, counts towards "current training": the person's latest completion sets their
refresher date. A completion counts once recorded; verification by an officer confirms it, and does not gate it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeAlias

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from werkzeug.utils import secure_filename

from app import audit, files
from app.errors import Conflict, Forbidden, InvalidData, NotFound
from app.models import StaffMember, StoredFile, StrEnum, TrainingCourse, TrainingRecord, User, utcnow
from app.security import can, training_access_clause
from app.services.uow import unit_of_work
from app.validation import (
    Form,
    is_blank,
    not_in_future,
    parse_bool,
    parse_date,
    parse_int,
    parse_iso_or_uk_date,
    text_parser,
)

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


def refresher_due(completed_on: date) -> date:
    return completed_on + relativedelta(months=current_app.config["TRAINING_REFRESHER_MONTHS"])


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


# --- the staff list ---------------------------------------------------------------------------------------------

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


def _email(raw: Any) -> str:
    text = text_parser(320)(raw).lower()
    local, _, domain = text.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in text):
        raise ValueError("Enter an email address such as name@example.org.")
    return text


def _active_user(session: Session) -> Callable[[Any], User]:
    def parse(raw: Any) -> User:
        user = session.get(User, parse_int(raw))
        if user is None or not user.active:
            raise ValueError("Choose someone who signs in here.")
        return user
    return parse


def _taken(session: Session, column, value: str | None, staff_id: int | None) -> bool:
    if value is None:
        return False
    query = sa.select(StaffMember.id).where(sa.func.lower(column) == value.lower())
    if staff_id is not None:
        query = query.where(StaffMember.id != staff_id)
    return session.scalar(query) is not None


def _staff_fields(session: Session, form: Form, staff_id: int | None = None) -> dict[str, Any]:
    values = {
        "full_name": form.field("full_name", text_parser(200)),
        "email": form.field("email", _email, required=False),
        "employee_ref": form.field("employee_ref", text_parser(64), required=False),
        "team": form.field("team", text_parser(100), required=False),
        "left_on": form.field("left_on", parse_date, required=False),
    }
    manager = form.field("manager_id", _active_user(session), required=False)
    values["manager_id"] = manager.id if manager else None
    if _taken(session, StaffMember.email, values["email"], staff_id):
        form.error("email", "Someone else on the staff list has this email.")
    if _taken(session, StaffMember.employee_ref, values["employee_ref"], staff_id):
        form.error("employee_ref", "Someone else on the staff list has this employee reference.")
    return values


def _flush_staff(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Someone changed the staff list at the same moment: reload it and try again.") from None


def add_staff(actor, payload: Any) -> StaffMember:
    """Adds someone without a sign-in to the staff list (the Lead)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("staff list") as session:
        form = Form(payload)
        values = _staff_fields(session, form)
        form.check()
        staff = StaffMember(**values, active=True, created_at=utcnow())
        session.add(staff)
        _flush_staff(session)
        audit.record(session, actor, "add_staff", staff)
        return staff


def update_staff(actor, staff_id: int, payload: Any) -> StaffMember:
    """Changes a person's details, team, manager, leaving date or whether they are active (the Lead)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("staff list") as session:
        staff = get_staff(session, actor, staff_id)
        form = Form(payload)
        values = _staff_fields(session, form, staff.id)
        values["active"] = form.field("active", parse_bool, required=False, default=False)
        form.check()
        for name, value in values.items():
            setattr(staff, name, value)
        audit.record(session, actor, "update_staff", staff)
        _flush_staff(session)
        return staff


# --- completions and their verification -------------------------------------------------------------------------

def courses(session: Session) -> Sequence[TrainingCourse]:
    return session.scalars(sa.select(TrainingCourse).where(TrainingCourse.active.is_(True))
                           .order_by(TrainingCourse.id)).all()


def _certificate(actor) -> Callable[[Any], StoredFile]:
    def parse(upload: Any) -> StoredFile:
        if not hasattr(upload, "stream"):
            raise ValueError("Send the certificate as a file.")
        # Read no more than one byte over the limit: enough to refuse it.
        data = upload.stream.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
        return files.stored_file(upload.filename, data, actor.id, kinds=CERTIFICATE_TYPES)
    return parse


def record_completion(actor, payload: Any) -> TrainingRecord:
    """A member of staff records a course they completed, with its certificate reference or file (`certificate`:
    an uploaded file, from the page). Their entry on the staff list is made on first use."""
    if not can(actor, "can_record", "Training"):
        raise Forbidden()
    with unit_of_work("training record") as session:
        form = Form(payload)
        course_id = form.field("course_id", parse_int)
        course = session.get(TrainingCourse, course_id) if course_id is not None else None
        if course_id is not None and (course is None or not course.active):
            form.error("course_id", "Choose a course from the list.")
        completed_on = form.field("completed_on", lambda raw: not_in_future(parse_date(raw)))
        certificate_ref = form.field("certificate_ref", text_parser(100), required=False)
        certificate = form.field("certificate", _certificate(actor), required=False)
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
                                refresher_due=refresher_due(completed_on), recorded_by_id=actor.id,
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


# --- compliance -------------------------------------------------------------------------------------------------

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


def compliance(session: Session, actor, today: date | None = None) -> Compliance:
    if not can(actor, "can_read", "Compliance"):
        raise Forbidden()
    today = today or date.today()
    rows = _staff_rows(session, _with_latest_training(active_staff_clause(today), today), today)
    overall = Figures("All staff")
    by_team: dict[str, Figures] = {}
    for row in rows:
        overall.count(row.status)
        by_team.setdefault(row.team, Figures(row.team)).count(row.status)
    team_figures = sorted(by_team.values(), key=lambda figures: (figures.label == NO_TEAM, figures.label))
    named = can(actor, "can_read_all", "Training")
    return Compliance(
        today, overall, team_figures,
        overdue=[row for row in rows if not row.status.is_current] if named else None,
        due_soon=[row for row in rows if row.status == TrainingStatus.due_soon] if named else None,
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


# --- CSV imports: check every row, report, then import all or the good rows only -----------------------------------

ENCODINGS = {
    "auto": "Find out (UTF-8, else Windows-1252)",
    "utf-8-sig": "UTF-8",
    "cp1252": "Windows-1252 (Excel's usual CSV)",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
# Column names as exports write them, folded to ours.
COLUMN_ALIASES = {
    "email_address": "email", "e_mail": "email", "employee_reference": "employee_ref", "employee_id": "employee_ref",
    "staff_ref": "employee_ref", "name": "full_name", "course_name": "course", "completed": "completed_on",
    "completion_date": "completed_on", "date_completed": "completed_on", "certificate": "certificate_ref",
    "certificate_reference": "certificate_ref", "certificate_number": "certificate_ref",
    "manager": "manager_email", "leaving_date": "left_on", "left": "left_on",
}


@dataclass
class RowProblem:
    line: int
    reasons: list[str]
    values: dict[str, str]  # the row as read, for the report


@dataclass
class ImportReport:
    kind: str
    upload_id: int
    filename: str
    encoding: str  # as chosen: "auto" or one of ENCODINGS
    read_as: str  # the encoding the file was read with
    note: str | None
    rows: int = 0
    good: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    imported: dict[str, int] | None = None  # what the import did, once it has run


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        value = self.values.get(name, "")
        return None if is_blank(value) else value.strip()

    def parse(self, name: str, parser: Callable[[Any], Any], *, required: bool = False, label: str = "") -> Any:
        raw = self.get(name)
        if raw is None:
            if required:
                self.problems.append(f"{label or name.replace('_', ' ').capitalize()} is missing.")
            return None
        try:
            return parser(raw)
        except ValueError as exc:
            self.problems.append(f"{label or name.replace('_', ' ').capitalize()}: {exc}")
            return None


@dataclass
class _ImportKind:
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # check(session, rows) -> the good rows, ready to apply; each bad row keeps its problems
    check: Callable[[Session, list[_Row]], list[Any]]
    # apply(session, actor, good items, source) -> what was done, counted
    apply: Callable[[Session, Any, list[Any], str], dict[str, int]]


def _normalised(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return COLUMN_ALIASES.get(key, key)


def _decode(data: bytes, encoding: str) -> tuple[str, str | None]:
    """The encoding to read the file with, and a note for the user when it had to be guessed."""
    if b"\x00" in data:
        raise ValueError("This is not a CSV file. In Excel, use Save As and choose CSV UTF-8.")
    candidates = [encoding] if encoding != "auto" else ["utf-8-sig", "cp1252", "latin-1"]
    for candidate in candidates:
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        note = None if candidate == "utf-8-sig" or encoding != "auto" else (
            f"The file is not UTF-8, so it was read as {ENCODINGS[candidate]}. Check that names with accents read "
            "correctly below; if they do not, choose the file's encoding and upload it again.")
        return candidate, note
    raise ValueError(f"The file cannot be read as {ENCODINGS[encoding]}: choose another encoding, or let the "
                     "import find out.")


def _read_rows(data: bytes, read_as: str, kind: _ImportKind) -> Iterator[_Row]:
    """The rows one by one, with their line numbers in the file (a quoted value may span lines)."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=read_as, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValueError(f"Line 1 cannot be read as CSV: {exc}.") from None
    columns = [_normalised(name) for name in header or []]
    missing = [name for name in kind.required if name not in columns]
    if not any(name in columns for name in ("email", "employee_ref")):
        missing.append("email or employee_ref")
    if missing:
        raise ValueError("Line 1 must name the columns; missing: " + ", ".join(missing) + ". Expected: " +
                         ", ".join(("email", "employee_ref") + kind.required + kind.optional) + ".")

    def rows() -> Iterator[_Row]:
        end = reader.line_num
        while True:
            start = end + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _Row(start, {}, [f"This line cannot be read as CSV: {exc}."])
                return
            end = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            row = _Row(start, dict(zip(columns, cells, strict=False)))
            if len(cells) > len(columns):
                row.problems.append(f"There are {len(cells)} values for {len(columns)} columns.")
            yield row

    return rows()


class _StaffIndex:
    """The staff list by email and by employee reference, folded to lower case, for matching rows to people."""

    def __init__(self, session: Session):
        self.by_email: dict[str, int] = {}
        self.by_ref: dict[str, int] = {}
        for staff_id, email, ref in session.execute(
                sa.select(StaffMember.id, StaffMember.email, StaffMember.employee_ref)):
            if email:
                self.by_email[email.lower()] = staff_id
            if ref:
                self.by_ref[ref.lower()] = staff_id

    def match(self, row: _Row, email: str | None, ref: str | None, *, unknown_is_problem: bool) -> int | None:
        """The one person the row's email and employee reference name, if any; problems are noted on the row."""
        if row.get("email") is None and row.get("employee_ref") is None:
            row.problems.append("Give the person's email or employee reference.")
        found = {}
        if ref is not None:
            found["employee reference"] = self.by_ref.get(ref.lower())
        if email is not None:
            found["email"] = self.by_email.get(email.lower())
        people = {staff_id for staff_id in found.values() if staff_id is not None}
        if len(people) > 1:
            row.problems.append("The email and the employee reference belong to two different people on the "
                                "staff list.")
            return None
        if unknown_is_problem:
            for what, staff_id in found.items():
                if staff_id is None:
                    value = ref if what == "employee reference" else email
                    row.problems.append(f"No one on the staff list has the {what} {value}.")
        return next(iter(people), None)


@dataclass
class _Completion:
    line: int
    staff_id: int
    course_id: int
    completed_on: date
    certificate_ref: str | None


def _check_completions(session: Session, rows: list[_Row]) -> list[_Completion]:
    staff = _StaffIndex(session)
    course_ids = {name.lower(): course_id for course_id, name in
                  session.execute(sa.select(TrainingCourse.id, TrainingCourse.name))}
    known = "; ".join(course.name for course in courses(session))
    parsed: list[tuple[_Row, _Completion]] = []
    for row in rows:
        staff_id = staff.match(row, row.parse("email", _email),
                               row.parse("employee_ref", text_parser(64), label="Employee reference"),
                               unknown_is_problem=True)
        course_name = row.get("course")
        course_id = course_ids.get(course_name.lower()) if course_name else None
        if course_name is None:
            row.problems.append("Course is missing.")
        elif course_id is None:
            row.problems.append(f"There is no course called {course_name!r}. Courses: {known}.")
        completed_on = row.parse("completed_on", lambda raw: not_in_future(parse_iso_or_uk_date(raw)),
                                 required=True, label="Completed on")
        certificate_ref = row.parse("certificate_ref", text_parser(100), label="Certificate reference")
        if not row.problems:
            assert staff_id is not None and course_id is not None  # else the row has a problem
            parsed.append((row, _Completion(row.line, staff_id, course_id, completed_on, certificate_ref)))
    dates = [item.completed_on for _, item in parsed]
    recorded = set(session.execute(
        sa.select(TrainingRecord.staff_member_id, TrainingRecord.course_id, TrainingRecord.completed_on)
        .where(TrainingRecord.completed_on.between(min(dates), max(dates)))).tuples()) if dates else set()
    first_line: dict[tuple, int] = {}
    good = []
    for row, item in parsed:
        key = (item.staff_id, item.course_id, item.completed_on)
        if key in first_line:
            row.problems.append(f"The same completion as line {first_line[key]}.")
        elif key in recorded:
            row.problems.append("This completion is recorded already.")
        else:
            first_line[key] = item.line
            good.append(item)
    return good


def _apply_completions(session: Session, actor, good: list[_Completion], source: str) -> dict[str, int]:
    for item in good:
        record = TrainingRecord(staff_member_id=item.staff_id, course_id=item.course_id,
                                completed_on=item.completed_on, certificate_ref=item.certificate_ref,
                                refresher_due=refresher_due(item.completed_on), recorded_by_id=actor.id,
                                recorded_at=utcnow())
        session.add(record)
        session.flush()
        audit.record(session, actor, "import_training", record, reason=f"{source}, line {item.line}")
    return {"completions imported": len(good)}


@dataclass
class _StaffChange:
    line: int
    staff_id: int | None  # None: someone new to the staff list
    values: dict[str, Any]  # the fields to set


def _check_staff(session: Session, rows: list[_Row]) -> list[_StaffChange]:
    index = _StaffIndex(session)
    managers = {email.lower(): user_id for user_id, email in
                session.execute(sa.select(User.id, User.email).where(User.active.is_(True))) if email}
    existing = {staff.id: staff for staff in session.scalars(sa.select(StaffMember))}
    seen: dict[tuple[str, str], int] = {}
    good = []
    for row in rows:
        email = row.parse("email", _email)
        ref = row.parse("employee_ref", text_parser(64), label="Employee reference")
        values = {"full_name": row.parse("full_name", text_parser(200), required=True, label="Full name"),
                  "email": email, "employee_ref": ref,
                  "team": row.parse("team", text_parser(100)),
                  "left_on": row.parse("left_on", parse_iso_or_uk_date, label="Left on")}
        manager_email = row.parse("manager_email", _email, label="Manager's email")
        if manager_email is not None:
            values["manager_id"] = managers.get(manager_email)
            if values["manager_id"] is None:
                row.problems.append(f"No one signs in with the email {manager_email}, so they cannot be the manager.")
        for identity in (("email", email), ("employee reference", ref)):
            if identity[1] is None:
                continue
            key = (identity[0], identity[1].lower())
            if key in seen:
                row.problems.append(f"The same {identity[0]} as line {seen[key]}.")
            else:
                seen[key] = row.line
        staff_id = index.match(row, email, ref, unknown_is_problem=False)
        if row.problems:
            continue
        current = existing.get(staff_id) if staff_id is not None else None
        # A blank cell changes nothing: leaving dates and teams are cleared on the staff page, never by omission.
        changes = {name: value for name, value in values.items()
                   if value is not None and (current is None or getattr(current, name) != value)}
        good.append(_StaffChange(row.line, staff_id, changes))
    return good


def _apply_staff(session: Session, actor, good: list[_StaffChange], source: str) -> dict[str, int]:
    counts = {"added to the staff list": 0, "updated": 0, "unchanged": 0}
    for item in good:
        if item.staff_id is None:
            staff = StaffMember(**item.values, active=True, created_at=utcnow())
            session.add(staff)
            session.flush()
            audit.record(session, actor, "import_staff", staff, reason=f"{source}, line {item.line}")
            counts["added to the staff list"] += 1
        elif item.values:
            staff = session.get_one(StaffMember, item.staff_id)
            for name, value in item.values.items():
                setattr(staff, name, value)
            audit.record(session, actor, "import_staff", staff, reason=f"{source}, line {item.line}")
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    _flush_staff(session)
    return counts


IMPORT_KINDS = {
    "completions": _ImportKind("Training completions (such as an eLearning export)", ("course", "completed_on"),
                               ("full_name", "certificate_ref"), _check_completions, _apply_completions),
    "staff": _ImportKind("The staff list (people and their teams; also those without a sign-in)", ("full_name",),
                         ("team", "manager_email", "left_on"), _check_staff, _apply_staff),
}


def _check(session: Session, upload: StoredFile, kind_name: str, encoding: str) -> tuple[ImportReport, list[Any]]:
    kind = IMPORT_KINDS[kind_name]
    try:
        read_as, note = _decode(upload.data, encoding)
        rows = list(_read_rows(upload.data, read_as, kind))
    except ValueError as exc:
        raise InvalidData({"file": [str(exc)]}) from None
    good = kind.check(session, rows)
    report = ImportReport(kind_name, upload.id, upload.filename, encoding, read_as, note, rows=len(rows),
                          good=len(good))
    report.problems = [RowProblem(row.line, row.problems, row.values) for row in rows if row.problems]
    return report, good


def _import_form(payload: Any) -> tuple[Form, str, str]:
    form = Form(payload)
    kind = form.field("kind", lambda raw: raw if raw in IMPORT_KINDS else _bad_choice(IMPORT_KINDS))
    encoding = form.field("encoding", lambda raw: raw if raw in ENCODINGS else _bad_choice(ENCODINGS),
                          required=False, default="auto")
    return form, kind, encoding


def _bad_choice(choices: Iterable[str]):
    raise ValueError("Choose one of: " + ", ".join(choices) + ".")


def check_import(actor, payload: Any) -> ImportReport:
    """Phase one: keeps the uploaded CSV (`file`, of `kind` and `encoding`) and checks every row; imports nothing."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    limit = current_app.config["TRAINING_IMPORT_MAX_BYTES"]

    def read(upload: Any) -> bytes:
        if not hasattr(upload, "stream"):
            raise ValueError("Send the CSV file.")
        data = upload.stream.read(limit + 1)  # no more than one byte over the limit: enough to refuse it
        if not data:
            raise ValueError("The file is empty.")
        if len(data) > limit:
            raise ValueError(f"The file is larger than {limit / (1024 * 1024):g} MB: split it and import each part.")
        return data

    with unit_of_work("import") as session:
        form, kind, encoding = _import_form(payload)
        data = form.field("file", read)
        form.check()
        filename = secure_filename(getattr(payload["file"], "filename", None) or "")[:255] or "import.csv"
        upload = files.kept_file(filename, "text/csv", data, actor.id)
        session.add(upload)
        session.flush()
        report, _ = _check(session, upload, kind, encoding)
        audit.record(session, actor, "upload_import", upload, extra_changes={"kind": (None, kind)})
        return report


def run_import(actor, upload_id: int, payload: Any) -> ImportReport:
    """Phase two: checks the kept file again (the records may have changed since) and imports it, all of it when
    every row is good, or the good rows only when `good_rows_only` is asked for. With bad rows and no such request
    nothing is imported, and the report says why (`imported` stays None)."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    with unit_of_work("import") as session:
        form, kind, encoding = _import_form(payload)
        good_rows_only = form.field("good_rows_only", parse_bool, required=False, default=False)
        form.check()
        upload = session.get(StoredFile, upload_id)
        if upload is None or upload.uploaded_by_id != actor.id or upload.content_type != "text/csv":
            raise NotFound("upload")
        report, good = _check(session, upload, kind, encoding)
        if report.problems and not good_rows_only:
            return report
        report.imported = IMPORT_KINDS[kind].apply(session, actor, good, f"Imported from {upload.filename}")
        return report
