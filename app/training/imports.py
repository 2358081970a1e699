"""Staff and training imports from CSV: every row checked and reported with its line and reason, then all
imported, or only the good rows by choice. The file is kept (StoredFile) between the check and the import."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from app.kernel import audit, files
from app.kernel.errors import Forbidden, InvalidData, NotFound
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.kernel.validation import (
    is_blank,
    not_in_future,
    parse_iso_or_uk_date,
    text_parser,
)
from app.models import StaffMember, StoredFile, TrainingCourse, TrainingRecord, User, utcnow
from app.training.schemas import ENCODINGS, IMPORT_CHECK, IMPORT_KIND_NAMES, IMPORT_RUN, staff_email
from app.training.use_cases import courses, flush_staff, refresher_due

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
        staff_id = staff.match(row, row.parse("email", staff_email),
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
                                refresher_due=refresher_due(item.completed_on,
                                                            session.get(TrainingCourse, item.course_id)),
                                recorded_by_id=actor.id,
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
        email = row.parse("email", staff_email)
        ref = row.parse("employee_ref", text_parser(64), label="Employee reference")
        values = {"full_name": row.parse("full_name", text_parser(200), required=True, label="Full name"),
                  "email": email, "employee_ref": ref,
                  "team": row.parse("team", text_parser(100)),
                  "left_on": row.parse("left_on", parse_iso_or_uk_date, label="Left on")}
        manager_email = row.parse("manager_email", staff_email, label="Manager's email")
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
    flush_staff(session)
    return counts


COMPLETIONS, STAFF = IMPORT_KIND_NAMES  # the choices the import schemas offer
IMPORT_KINDS = {
    COMPLETIONS: _ImportKind("Training completions (such as an eLearning export)", ("course", "completed_on"),
                               ("full_name", "certificate_ref"), _check_completions, _apply_completions),
    STAFF: _ImportKind("The staff list (people and their teams; also those without a sign-in)", ("full_name",),
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


def check_import(actor, payload: Any) -> ImportReport:
    """Phase one: keeps the uploaded CSV (`file`, of `kind` and `encoding`) and checks every row; imports nothing."""
    if not can(actor, "can_manage", "Training"):
        raise Forbidden()
    limit = current_app.config["TRAINING_IMPORT_MAX_BYTES"]

    def read(upload: Any) -> bytes | None:
        data = upload.stream.read(limit + 1)  # no more than one byte over the limit: enough to refuse it
        if not data:
            form.error("file", "The file is empty.")
        elif len(data) > limit:
            form.error("file", f"The file is larger than {limit / (1024 * 1024):g} MB: split it and import each part.")
        return data

    with unit_of_work("import") as session:
        form = IMPORT_CHECK.read(payload)
        kind, encoding = form["kind"], form.get("encoding", "auto")
        data = read(form["file"]) if form["file"] is not None else None
        form.check()
        assert data is not None  # form.check() refused a missing or empty file
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
        form = IMPORT_RUN.check(payload)
        kind, encoding = form["kind"], form.get("encoding", "auto")
        good_rows_only = form.get("good_rows_only", False)
        upload = session.get(StoredFile, upload_id)
        if upload is None or upload.uploaded_by_id != actor.id or upload.content_type != "text/csv":
            raise NotFound("upload")
        report, good = _check(session, upload, kind, encoding)
        if report.problems and not good_rows_only:
            return report
        report.imported = IMPORT_KINDS[kind].apply(session, actor, good, f"Imported from {upload.filename}")
        return report
