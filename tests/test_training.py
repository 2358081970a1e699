"""Staff training: who sees and records what, verification, certificates, compliance figures against hand-computed
values, CSV imports of completions and of the staff list, and reminders through the outbox and a real SMTP server.

The database is shared by the whole test session: every test makes its own people (unique names, references and
teams), and figures are checked per team of its own or as a change in the overall figures.
"""
from __future__ import annotations

import io
import itertools
import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.kernel.errors import Forbidden, InvalidData
from app.kernel.uow import unit_of_work
from app.models import AuditEvent, StaffMember, TrainingCourse, TrainingRecord
from app.notifications import notify
from app.seed import TRAINING_COURSES, seed_reference
from app.training import imports as training_imports
from app.training import use_cases as training
from tests.conftest import PASSWORD, csrf_token, deliver, user
from tests.sample_files import PDF, PNG
from tests.test_pages import section

ELEARNING, CHANNEL, REFRESHER = TRAINING_COURSES
_days_back = itertools.count(400)


def a_past_day() -> date:
    """A completion date no other test uses for the shared users (each (person, course, date) is recorded once)."""
    return date.today() - timedelta(days=next(_days_back))


def course_id(name: str) -> int:
    return db.session.scalar(sa.select(TrainingCourse.id).where(TrainingCourse.name == name))


def marker() -> str:
    return uuid.uuid4().hex[:8]


def add_person(team: str | None = None, **fields) -> StaffMember:
    """Someone without a sign-in, added by the Lead, with an employee reference of their own."""
    tag = marker()
    return training.add_staff(user("lead"), {"full_name": f"Person {tag}", "employee_ref": f"E-{tag}", "team": team,
                                             **fields})


def upload(text: str, encoding: str = "utf-8", name: str = "file.csv") -> FileStorage:
    return FileStorage(stream=io.BytesIO(text.encode(encoding)), filename=name)


def check(kind: str, text: str, *, encoding: str = "utf-8", choose: str = "auto", name: str = "file.csv"):
    return training_imports.check_import(user("lead"), {"kind": kind, "encoding": choose,
                                                "file": upload(text, encoding, name)})


def run(report, good_rows_only: bool = False):
    return training_imports.run_import(user("lead"), report.upload_id, {
        "kind": report.kind, "encoding": report.encoding, "good_rows_only": good_rows_only})


def records_of(staff_id: int) -> list[tuple[str, date]]:
    rows = db.session.execute(sa.select(TrainingCourse.name, TrainingRecord.completed_on)
                              .join(TrainingCourse, TrainingCourse.id == TrainingRecord.course_id)
                              .where(TrainingRecord.staff_member_id == staff_id)
                              .order_by(TrainingRecord.completed_on)).all()
    return [tuple(row) for row in rows]


def import_completions(*lines: str) -> None:
    report = check("completions", "employee_ref,course,completed_on\n" + "\n".join(lines) + "\n")
    assert report.problems == [], report.problems
    run(report)


def own_record(username: str, **fields) -> int:
    """A completion `username` records through the API; returns its id."""
    payload = {"course_id": course_id(ELEARNING), "completed_on": a_past_day().isoformat(), **fields}
    return training.record_completion(user(username), payload).id


# --- reference data -----------------------------------------------------------------------------------------------

def test_the_three_courses_are_seeded_once_and_the_lead_adds_more(web, ctx):
    assert seed_reference() == 0
    names = db.session.scalars(sa.select(TrainingCourse.name).order_by(TrainingCourse.id)).all()
    assert names[:3] == TRAINING_COURSES
    lead = web("lead")
    name = f"Prevent face-to-face briefing {marker()}"
    page = lead.get("/trainingcourseview/add").get_data(as_text=True)
    lead.post("/trainingcourseview/add", data={"name": name, "active": "y", "csrf_token": csrf_token(page)})
    assert name in web("staff").get("/training/mine").get_data(as_text=True)
    assert web("officer").get("/trainingcourseview/list/").status_code == 403
    assert web("admin").get("/trainingcourseview/add").status_code == 403


# --- who sees and records what ------------------------------------------------------------------------------------

def test_staff_record_their_own_training_and_see_only_their_own(api, ctx):
    completed = a_past_day()
    response = api("staff").post("/api/v1/training_record/", json={
        "course_id": course_id(ELEARNING), "completed_on": completed.isoformat(), "certificate_ref": "HO-123"})
    assert response.status_code == 201, response.get_json()
    record = response.get_json()["result"]
    assert record["refresher_due"] == (completed + relativedelta(months=24)).isoformat()
    assert record["verified"] is False and record["certificate_ref"] == "HO-123"
    mine = db.session.scalar(sa.select(StaffMember).where(StaffMember.user_id == user("staff").id))
    assert record["staff_member_id"] == mine.id and mine.email == "staff@example.org"

    others = own_record("staff2")
    listed = api("staff").get("/api/v1/training_record/?q=(page_size:100)").get_json()
    assert record["id"] in listed["ids"] and others not in listed["ids"]
    assert {row["staff_member_id"] for row in listed["result"]} == {mine.id}
    assert listed["count"] == db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRecord)
                                                .where(TrainingRecord.staff_member_id == mine.id))
    refused = api("staff").get(f"/api/v1/training_record/{others}")
    missing = api("staff").get("/api/v1/training_record/987654321")
    assert refused.status_code == missing.status_code == 404 and refused.get_json() == missing.get_json()
    assert api("officer").get(f"/api/v1/training_record/{others}").status_code == 200


def test_recording_reports_every_bad_field_at_once(api, ctx):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = api("staff").post("/api/v1/training_record/", json={"course_id": 987654, "completed_on": tomorrow,
                                                                   "certificate_ref": "x" * 101})
    assert response.status_code == 422
    assert set(response.get_json()["message"]) == {"course_id", "completed_on", "certificate_ref"}
    completed = a_past_day().isoformat()
    payload = {"course_id": course_id(CHANNEL), "completed_on": completed}
    assert api("staff").post("/api/v1/training_record/", json=payload).status_code == 201
    again = api("staff").post("/api/v1/training_record/", json=payload)
    assert again.status_code == 422 and "already" in again.get_json()["message"]["completed_on"][0]


def test_officers_verify_once_never_their_own_and_staff_cannot(api, ctx):
    record_id = own_record("staff2")
    assert api("staff2").post(f"/api/v1/training_record/{record_id}/verify").status_code == 403
    assert api("governance").post(f"/api/v1/training_record/{record_id}/verify").status_code == 403
    verified = api("officer").post(f"/api/v1/training_record/{record_id}/verify")
    assert verified.status_code == 200
    assert verified.get_json()["result"]["verified_by"] == "officer"
    again = api("lead").post(f"/api/v1/training_record/{record_id}/verify")
    assert again.status_code == 409 and "verified already" in again.get_json()["message"]

    officers_own = own_record("officer2")
    assert api("officer2").post(f"/api/v1/training_record/{officers_own}/verify").status_code == 409
    assert api("officer").post(f"/api/v1/training_record/{officers_own}/verify").status_code == 200
    events = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "TrainingRecord",
                                                                   AuditEvent.entity_id == str(record_id))
                                .order_by(AuditEvent.seq)).all()
    assert events == ["record_training", "verify_training"]


def test_governance_sees_the_compliance_figures_and_nothing_else_of_training(api, web, ctx):
    team = f"Figures team {marker()}"
    person = add_person(team)
    import_completions(f"{person.employee_ref},{ELEARNING},{a_past_day().isoformat()}")
    someone_elses = db.session.scalar(sa.select(TrainingRecord.id).where(TrainingRecord.staff_member_id == person.id))

    figures = api("governance").get("/api/v1/training_record/compliance")
    assert figures.status_code == 200
    body = figures.get_json()["result"]
    assert set(body) == {"as_of", "overall", "teams", "subcontractors", "requirements"}  # figures, no names
    assert next(row for row in body["teams"] if row["team"] == team)["active"] == 1
    assert person.full_name not in figures.get_data(as_text=True)
    page = web("governance").get("/training/compliance/").get_data(as_text=True)
    assert team in page and person.full_name not in page and 'id="overdue"' not in page

    governance = api("governance")
    assert governance.get(f"/api/v1/training_record/{someone_elses}").status_code == 404
    assert governance.get("/api/v1/training_record/?q=(page_size:100)").get_json()["count"] == 0  # their own: none
    assert governance.post(f"/api/v1/training_record/{someone_elses}/verify").status_code == 403
    pages = web("governance")
    for path in ("/training/staff/", f"/training/staff/{person.id}", "/training/import", "/trainingcourseview/list/"):
        assert pages.get(path).status_code == 403, path
    assert pages.get("/training/mine").status_code == 200  # an employee like any other: their own training

    for username in ("staff", "director", "admin"):
        assert api(username).get("/api/v1/training_record/compliance").status_code == 403
        assert web(username).get("/training/compliance/").status_code == 403
    officer_view = api("officer").get("/api/v1/training_record/compliance").get_json()["result"]
    assert {"overdue", "due_soon"} <= set(officer_view)


def test_staff_pages_record_with_a_certificate_and_keep_what_was_typed(web, ctx):
    staff = web("staff")
    page = staff.get("/training/mine").get_data(as_text=True)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    refused = staff.post("/training/mine", data={
        "csrf_token": csrf_token(page), "course_id": str(course_id(REFRESHER)), "completed_on": tomorrow,
        "certificate_ref": "REF-typed", "certificate": (io.BytesIO(b"GIF89a..."), "certificate.gif")},
        content_type="multipart/form-data")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "cannot be in the future" in body and "Only PDF, PNG, JPEG files" in body
    assert 'value="REF-typed"' in body and f'value="{tomorrow}"' in body
    assert re.search(rf'value="{course_id(REFRESHER)}"\s+selected', body)

    completed = a_past_day()
    done = staff.post("/training/mine", data={
        "csrf_token": csrf_token(page), "course_id": str(course_id(REFRESHER)), "completed_on": completed.isoformat(),
        "certificate": (io.BytesIO(PDF), "my certificate.pdf")}, content_type="multipart/form-data")
    assert done.status_code == 302
    record = db.session.scalar(sa.select(TrainingRecord).join(StaffMember)
                               .where(StaffMember.user_id == user("staff").id,
                                      TrainingRecord.completed_on == completed))
    assert record.certificate_file.content_type == "application/pdf"
    mine = staff.get("/training/mine").get_data(as_text=True)
    assert "my_certificate.pdf" in mine and completed.strftime("%d %b %Y") in mine

    download = f"/training/records/{record.id}/certificate"
    got = staff.get(download)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["X-Content-Type-Options"] == "nosniff" and "attachment" in got.headers["Content-Disposition"]
    assert web("officer").get(download).status_code == 200
    assert web("staff2").get(download).status_code == 404
    assert web("governance").get(download).status_code == 404
    assert "my_certificate.pdf" not in web("staff2").get("/training/mine").get_data(as_text=True)


def test_a_certificate_is_refused_when_too_large_or_not_what_its_name_says(app, ctx):
    completed = a_past_day().isoformat()

    def attempt(data: bytes, name: str) -> list[str]:
        with pytest.raises(InvalidData) as refused:
            training.record_completion(user("staff2"), {"course_id": course_id(CHANNEL), "completed_on": completed,
                                                        "certificate": FileStorage(io.BytesIO(data), name)})
        return refused.value.errors["certificate"]

    assert "does not match its content" in attempt(PNG, "certificate.pdf")[0]
    limit = app.config["UPLOAD_MAX_BYTES"]
    app.config["UPLOAD_MAX_BYTES"] = 100
    try:
        assert "larger than" in attempt(PDF + b"0" * 100, "certificate.pdf")[0]
    finally:
        app.config["UPLOAD_MAX_BYTES"] = limit


def test_officers_list_staff_and_verify_from_the_page(web, ctx):
    team = f"List-team-{marker()}"
    person = add_person(team)
    import_completions(f"{person.employee_ref},{ELEARNING},{a_past_day().isoformat()}")
    officer = web("officer")
    listed = officer.get(f"/training/staff/?team={team}").get_data(as_text=True)
    assert person.full_name in listed and 'id="waiting"' in listed
    table = section(listed, 'id="staff-list"', "</table>")
    assert person.full_name in table and "Person" not in table.replace(person.full_name, "")  # the team's only one

    record_id = own_record("staff2")
    staff2 = db.session.get(TrainingRecord, record_id).staff_member_id
    page = officer.get(f"/training/staff/{staff2}").get_data(as_text=True)
    assert f"/training/records/{record_id}/verify" in page
    response = officer.post(f"/training/records/{record_id}/verify",
                            data={"csrf_token": csrf_token(page), "next": f"/training/staff/{staff2}"})
    assert response.status_code == 302 and response.location.endswith(f"/training/staff/{staff2}")
    assert db.session.get(TrainingRecord, record_id).verified_by_id == user("officer").id
    again = officer.post(f"/training/records/{record_id}/verify",
                         data={"csrf_token": csrf_token(page), "next": "//elsewhere.example/"})
    assert again.location == "/training/staff/"  # back to a page of this app, never to another site
    assert "verified already" in officer.get(again.location).get_data(as_text=True)
    assert web("staff").get("/training/staff/").status_code == 403
    assert web("staff").get(f"/training/staff/{person.id}").status_code == 403
    assert officer.get(f"/training/staff/{person.id}").status_code == 200
    assert officer.get("/training/import").status_code == 403  # importing is the Lead's


def test_the_lead_keeps_the_staff_list_and_a_sign_in_links_to_its_entry(web, ctx):
    sm = current_app.appbuilder.sm
    tag = marker()
    entry = add_person(f"Link team {tag}", email=f"joiner-{tag}@example.org")
    with pytest.raises(InvalidData) as duplicate:
        add_person(email=f"JOINER-{tag}@example.org")
    assert set(duplicate.value.errors) == {"email"}
    username = f"joiner-{tag}"
    sm.add_user(username, "Jo", "Joiner", f"joiner-{tag}@example.org", sm.find_role("Staff"), PASSWORD)
    training.record_completion(user(username), {"course_id": course_id(ELEARNING),
                                                "completed_on": a_past_day().isoformat()})
    linked = db.session.scalars(sa.select(StaffMember).where(StaffMember.user_id == user(username).id)).all()
    assert [staff.id for staff in linked] == [entry.id]  # the imported entry, not a second one

    lead = web("lead")
    page = lead.get(f"/training/staff/{entry.id}").get_data(as_text=True)
    refused = lead.post(f"/training/staff/{entry.id}", data={
        "csrf_token": csrf_token(page), "full_name": "Jo Joiner", "team": "Typed team", "left_on": "not a date"})
    body = refused.get_data(as_text=True)
    # The box reads dd/mm/yyyy, and the message says so (the API's still names YYYY-MM-DD).
    assert refused.status_code == 422 and 'value="Typed team"' in body and \
        "Enter the date they left as day, month and year, for example 27/3/2026" in body
    saved = lead.post(f"/training/staff/{entry.id}", data={
        "csrf_token": csrf_token(page), "full_name": "Jo Joiner", "email": f"joiner-{tag}@example.org",
        "team": "Typed team", "left_on": "2026-01-31"})
    assert saved.status_code == 302
    db.session.expire_all()
    changed = db.session.get(StaffMember, entry.id)
    assert (changed.team, changed.left_on, changed.active) == ("Typed team", date(2026, 1, 31), False)
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "StaffMember",
                                                                AuditEvent.entity_id == str(entry.id))
                             .order_by(AuditEvent.seq.desc()).limit(1)) == "update_staff"
    with pytest.raises(Forbidden):
        training.add_staff(user("officer"), {"full_name": "Not allowed"})


def test_sync_gives_everyone_who_signs_in_an_entry(ctx):
    sm = current_app.appbuilder.sm
    username = f"newcomer-{marker()}"
    sm.add_user(username, "Nia", "Newcomer", f"{username}@example.org", sm.find_role("Programme Director"), PASSWORD)
    assert training.sync_staff_with_sign_ins(user("lead")) >= 1
    entry = db.session.scalar(sa.select(StaffMember).where(StaffMember.user_id == user(username).id))
    assert (entry.full_name, entry.email, entry.active) == ("Nia Newcomer", f"{username}@example.org", True)
    assert training.sync_staff_with_sign_ins(user("lead")) == 0
    with pytest.raises(Forbidden):
        training.sync_staff_with_sign_ins(user("officer"))


# --- compliance ---------------------------------------------------------------------------------------------------

TODAY = date(2026, 6, 15)  # the frozen day the figures are worked out for


def test_compliance_matches_figures_worked_out_by_hand(ctx):
    """Refresher: 24 months. Current: the latest completion's refresher date is today or later. Due soon: within
    30 days (to 15 Jul 2026 inclusive). Active: on the staff list, active, and not left by today."""
    tag = marker()
    team_a, team_b = f"Compliance A {tag}", f"Compliance B {tag}"
    before = training.compliance(db.session, user("lead"), TODAY).overall
    people: dict[str, StaffMember] = {}

    def person(key: str, team: str, **fields) -> None:
        people[key] = add_person(team, full_name=f"{key} {tag}", **fields)

    for key in ("a1", "a2", "a3", "a4", "a5", "a10"):
        person(key, team_a)
    person("a6", team_a, left_on="2026-05-01")  # left: not counted
    person("a7", team_a, left_on="2026-06-15")  # leaves today: not counted
    person("a8", team_a, left_on="2026-07-01")  # leaves later: still counted
    person("a9", team_a)
    training.update_staff(user("lead"), people["a9"].id, {"full_name": f"a9 {tag}", "team": team_a, "active": False,
                                                          "employee_ref": people["a9"].employee_ref})  # gone
    for key in ("b1", "b2", "b3", "b4"):
        person(key, team_b)
    completions = [
        ("a1", ELEARNING, "2025-01-10"),  # due 10 Jan 2027: current
        ("a2", ELEARNING, "01/07/2024"),  # due 1 Jul 2026: current, due soon (UK date in the file)
        ("a3", CHANNEL, "2024-06-15"),  # due today: current, due soon
        ("a4", ELEARNING, "2024-06-14"),  # due yesterday: overdue
        # a5: never trained: overdue
        ("a7", ELEARNING, "2026-01-01"),  # current, but has left
        ("a8", ELEARNING, "2023-01-01"),  # due 1 Jan 2025: overdue
        ("a9", ELEARNING, "2026-01-01"),  # current, but inactive
        ("a10", ELEARNING, "2023-01-01"),  # expired, but then:
        ("a10", REFRESHER, "2026-01-01"),  # latest completion, due 1 Jan 2028: current
        ("b1", ELEARNING, "2026-01-20"),  # current
        ("b2", REFRESHER, "2024-07-15"),  # due 15 Jul 2026, the 30th day: current, due soon
        ("b3", REFRESHER, "2024-07-16"),  # due 16 Jul 2026, the 31st day: current, not due soon
        ("b4", ELEARNING, "2020-01-01"),  # overdue
    ]
    import_completions(*(f"{people[key].employee_ref},{course},{day}" for key, course, day in completions))

    result = training.compliance(db.session, user("lead"), TODAY)
    teams = {figures.label: figures for figures in result.teams}
    a, b = teams[team_a], teams[team_b]
    assert (a.active, a.current, a.due_soon, a.overdue, a.percent) == (7, 4, 2, 3, 57.1)
    assert (b.active, b.current, b.due_soon, b.overdue, b.percent) == (4, 3, 1, 1, 75.0)
    after = result.overall
    assert (after.active - before.active, after.current - before.current, after.due_soon - before.due_soon,
            after.overdue - before.overdue) == (11, 7, 3, 4)
    ours = {person.id: key for key, person in people.items()}
    assert sorted(ours[row.staff.id] for row in result.overdue if row.staff.id in ours) == ["a4", "a5", "a8", "b4"]
    assert sorted(ours[row.staff.id] for row in result.due_soon if row.staff.id in ours) == ["a2", "a3", "b2"]
    staff_list = training.list_staff(db.session, user("officer"), training.StaffFilters(team=team_a), today=TODAY)[1]
    assert {row.staff.full_name: (row.course, row.status.value) for row in staff_list}[f"a10 {tag}"] == (
        REFRESHER, "current")


def test_compliance_figures_through_the_api_and_page(api, web, ctx):
    team = f"Api team {marker()}"
    current, overdue = add_person(team), add_person(team)
    import_completions(f"{current.employee_ref},{ELEARNING},{date.today().isoformat()}",
                       f"{overdue.employee_ref},{ELEARNING},{(date.today() - relativedelta(years=3)).isoformat()}")
    body = api("officer").get("/api/v1/training_record/compliance").get_json()["result"]
    assert {"team": team, "active": 2, "current": 1, "due_soon": 0, "overdue": 1, "percent": 50.0} in body["teams"]
    assert overdue.id in {row["staff_member_id"] for row in body["overdue"]}
    assert current.id not in {row["staff_member_id"] for row in body["overdue"] + body["due_soon"]}
    page = web("lead").get("/training/compliance/").get_data(as_text=True)
    assert team in page and overdue.full_name in page


# --- CSV imports --------------------------------------------------------------------------------------------------

def test_a_good_file_imports_every_row(ctx):
    tag = marker()
    first = add_person(email=f"good-{tag}@example.org")
    second = add_person()
    text = ("\ufeffEmail,Employee ref,Full name,Course,Completed on,Certificate ref\r\n"
            f"GOOD-{tag}@example.org,,First Person,{ELEARNING},2025-03-04,HO-1\r\n"
            f",{second.employee_ref},Second Person,{CHANNEL.lower()},05/03/2025,\r\n"
            "\r\n"
            f",{second.employee_ref},Second Person,{REFRESHER},2025-12-24,\"HO-2, copy\"\r\n")
    report = check("completions", text, name="elearning export.csv")
    assert (report.rows, report.good, report.problems, report.note) == (3, 3, [], None)
    assert report.imported is None and records_of(first.id) == []  # checked, not imported
    done = run(report)
    assert done.imported == {"completions imported": 3}
    assert records_of(first.id) == [(ELEARNING, date(2025, 3, 4))]
    assert records_of(second.id) == [(CHANNEL, date(2025, 3, 5)), (REFRESHER, date(2025, 12, 24))]
    reasons = db.session.scalars(sa.select(AuditEvent.reason).where(AuditEvent.action == "import_training")
                                 .order_by(AuditEvent.seq.desc()).limit(3)).all()
    assert sorted(reasons) == ["Imported from elearning_export.csv, line 2",
                               "Imported from elearning_export.csv, line 3",
                               "Imported from elearning_export.csv, line 5"]


def test_a_bad_file_reports_each_row_with_its_line_and_imports_nothing(ctx):
    person = add_person()
    ref = person.employee_ref
    import_completions(f"{ref},{ELEARNING},2024-01-02")
    future = (date.today() + timedelta(days=3)).isoformat()
    text = "\n".join([
        "employee_ref,email,course,completed_on",
        f"{ref},,{ELEARNING},2025/04/03",  # 2: not one of the two formats
        f"{ref},,{ELEARNING},03/04/25",  # 3: two-digit year
        f"{ref},,{ELEARNING},31/02/2025",  # 4: no such day
        f"{ref},,{ELEARNING},04/13/2025",  # 5: month first
        f"{ref},,{ELEARNING},{future}",  # 6: in the future
        f"E-nobody-{marker()},,{ELEARNING},2025-01-01",  # 7: unknown reference
        f",nobody-{marker()}@example.org,{ELEARNING},2025-01-01",  # 8: unknown email
        f"{ref},,Fire safety,2025-01-01",  # 9: unknown course
        f"{ref},,{CHANNEL},2025-01-01",  # 10: good
        f"{ref},,{CHANNEL},01/01/2025",  # 11: the same as line 10
        f"{ref},,{ELEARNING},2024-01-02",  # 12: recorded already
        ",,,",  # 13 is empty: skipped
        f",,{ELEARNING},",  # 14: no one named, no date
    ]) + "\n"
    report = check("completions", text)
    problems = {problem.line: " ".join(problem.reasons) for problem in report.problems}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14]
    assert (report.rows, report.good) == (12, 1)
    assert "write it as YYYY-MM-DD or DD/MM/YYYY" in problems[2] and "YYYY-MM-DD or DD/MM/YYYY" in problems[3]
    assert "not a date in day/month/year order" in problems[4] and "day/month/year" in problems[5]
    assert "future" in problems[6]
    assert "No one on the staff list has the employee reference" in problems[7]
    assert "No one on the staff list has the email" in problems[8]
    assert "no course called 'Fire safety'" in problems[9] and ELEARNING in problems[9]
    assert problems[11] == "The same completion as line 10."
    assert problems[12] == "This completion is recorded already."
    assert "Give the person's email or employee reference." in problems[14] and "Completed on is missing" in \
        problems[14]

    refused = run(report)
    assert refused.imported is None and len(refused.problems) == 11
    assert records_of(person.id) == [(ELEARNING, date(2024, 1, 2))]


def test_a_mixed_file_imports_the_good_rows_only_when_asked_and_only_once(ctx):
    first, second = add_person(), add_person()
    text = ("employee_ref,course,completed_on\n"
            f"{first.employee_ref},{ELEARNING},2025-02-01\n"
            f"{first.employee_ref},{ELEARNING},2025-13-01\n"
            f"{second.employee_ref},{REFRESHER},2025-02-02\n"
            f"E-unknown-{marker()},{REFRESHER},2025-02-02\n")
    report = check("completions", text)
    assert (report.good, [p.line for p in report.problems]) == (2, [3, 5])
    assert run(report).imported is None
    assert records_of(first.id) == records_of(second.id) == []

    done = run(report, good_rows_only=True)
    assert done.imported == {"completions imported": 2} and [p.line for p in done.problems] == [3, 5]
    assert records_of(first.id) == [(ELEARNING, date(2025, 2, 1))]
    assert records_of(second.id) == [(REFRESHER, date(2025, 2, 2))]
    again = run(report, good_rows_only=True)  # the same file again: its good rows are recorded already
    assert again.imported == {"completions imported": 0}
    assert {p.line: p.reasons for p in again.problems}[2] == ["This completion is recorded already."]


def test_a_windows_1252_file_is_read_with_a_note_and_its_accents_kept(ctx):
    tag = marker()
    team = f"Équipe {tag}"
    text = ("full_name,email,employee_ref,team\n"
            f"Zoë Brontë,zoe-{tag}@example.org,Z-{tag},{team}\n"
            f"José Núñez,,J-{tag},{team}\n")
    report = check("staff", text, encoding="cp1252")
    assert report.read_as == "cp1252" and "not UTF-8" in report.note and "Windows-1252" in report.note
    assert report.problems == []
    assert run(report).imported == {"added to the staff list": 2, "updated": 0, "unchanged": 0}
    names = db.session.scalars(sa.select(StaffMember.full_name).where(StaffMember.team == team)
                               .order_by(StaffMember.full_name)).all()
    assert names == ["José Núñez", "Zoë Brontë"]

    latin = check("staff", f"full_name,employee_ref\nRenée Ørsted,R-{tag}\n", encoding="latin-1", choose="latin-1")
    assert latin.note is None and run(latin).imported["added to the staff list"] == 1
    assert db.session.scalar(sa.select(StaffMember.full_name).where(StaffMember.employee_ref == f"R-{tag}")) == \
        "Renée Ørsted"
    with pytest.raises(InvalidData) as wrong:
        check("staff", text, encoding="cp1252", choose="utf-8-sig")
    assert "cannot be read as UTF-8" in wrong.value.errors["file"][0]


def test_a_file_that_is_not_a_usable_csv_is_refused_whole(app, ctx):
    with pytest.raises(InvalidData) as no_course:
        check("completions", "email,completed_on\nx@example.org,2025-01-01\n")
    assert "missing: course" in no_course.value.errors["file"][0]
    with pytest.raises(InvalidData) as spreadsheet:
        check("completions", "PK\x03\x04\x00\x00binary")
    assert "not a CSV file" in spreadsheet.value.errors["file"][0]
    with pytest.raises(InvalidData) as nothing:
        training_imports.check_import(user("lead"), {"kind": "staff"})
    assert set(nothing.value.errors) == {"file"}
    limit = app.config["TRAINING_IMPORT_MAX_BYTES"]
    app.config["TRAINING_IMPORT_MAX_BYTES"] = 50
    try:
        with pytest.raises(InvalidData) as large:
            check("completions", "employee_ref,course,completed_on\n" + "E-1,x,2025-01-01\n" * 10)
        assert "larger than" in large.value.errors["file"][0]
    finally:
        app.config["TRAINING_IMPORT_MAX_BYTES"] = limit
    with pytest.raises(Forbidden):
        training_imports.check_import(user("officer"), {"kind": "staff", "file": upload("full_name,email\n")})


def test_the_staff_list_import_adds_updates_and_checks_managers(ctx):
    tag = marker()
    known = add_person(f"Old team {tag}", email=f"known-{tag}@example.org")
    text = ("Name,Email,Employee ref,Team,Manager email,Leaving date\n"
            f"Known Person,known-{tag}@example.org,{known.employee_ref},New team {tag},officer2@example.org,"
            "31/08/2026\n"
            f"New Person,new-{tag}@example.org,,New team {tag},,\n"
            f"Same Again,new-{tag}@example.org,,New team {tag},,\n"
            f"Unmanaged,,U-{tag},New team {tag},nobody-{tag}@example.org,\n"
            f"Clash,known-{tag}@example.org,U2-{tag},,,\n"
            ",,,,,\n")
    report = check("staff", text)
    problems = {problem.line: " ".join(problem.reasons) for problem in report.problems}
    assert problems == {4: "The same email as line 3.",
                        5: f"No one signs in with the email nobody-{tag}@example.org, so they cannot be the manager.",
                        6: "The same email as line 2."}
    done = run(report, good_rows_only=True)
    assert done.imported == {"added to the staff list": 1, "updated": 1, "unchanged": 0}
    db.session.expire_all()
    updated = db.session.get(StaffMember, known.id)
    assert (updated.full_name, updated.team, updated.manager_id, updated.left_on) == (
        "Known Person", f"New team {tag}", user("officer2").id, date(2026, 8, 31))
    added = db.session.scalar(sa.select(StaffMember).where(StaffMember.email == f"new-{tag}@example.org"))
    assert (added.full_name, added.user_id, added.active) == ("New Person", None, True)
    unchanged = run(check("staff", f"full_name,email\nNew Person,new-{tag}@example.org\n"))
    assert unchanged.imported == {"added to the staff list": 0, "updated": 0, "unchanged": 1}


def test_the_import_pages_show_the_report_and_both_choices(web, ctx):
    person = add_person()
    lead = web("lead")
    page = lead.get("/training/import").get_data(as_text=True)
    text = ("employee_ref,course,completed_on\n"
            f"{person.employee_ref},{ELEARNING},2025-06-01\n"
            f"{person.employee_ref},{ELEARNING},2025-06-31\n")
    checked = lead.post("/training/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "kind": "completions", "encoding": "auto",
        "file": (io.BytesIO(text.encode()), "mixed.csv")})
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert "mixed.csv: 2 rows read, 1 good, 1 to fix" in body
    assert re.search(r"<td>3</td><td><ul[^>]*><li>Completed on: 2025-06-31 is not a date.</li>", body)
    assert "Fix the file and upload it again" in body and "Import the 1 good row only" in body
    run_url = re.search(r'action="(/training/import/\d+)"', body).group(1)
    form = {"csrf_token": csrf_token(body), "kind": "completions", "encoding": "auto"}
    refused = lead.post(run_url, data=form)
    assert refused.status_code == 409 and "nothing was imported" in refused.get_data(as_text=True)
    assert records_of(person.id) == []
    done = lead.post(run_url, data={**form, "good_rows_only": "yes"})
    assert done.status_code == 200 and "Completions imported: 1" in done.get_data(as_text=True)
    assert records_of(person.id) == [(ELEARNING, date(2025, 6, 1))]

    without_file = lead.post("/training/import", data={"csrf_token": csrf_token(body), "kind": "staff"})
    assert without_file.status_code == 422 and 'value="staff" checked' in without_file.get_data(as_text=True)
    officer = web("officer")
    officers_token = csrf_token(officer.get("/training/mine").get_data(as_text=True))
    assert officer.post(run_url, data={**form, "csrf_token": officers_token}).status_code == 403


# --- reminders ----------------------------------------------------------------------------------------------------

def run_reminders(today: date) -> notify.ReminderReport:
    with unit_of_work() as session:
        return notify.run_reminders(session, today)


def test_reminders_reach_the_person_and_their_manager_or_the_lead_exactly_once(inbox, ctx):
    sm = current_app.appbuilder.sm
    tag = marker()
    today = date.today()
    soon = add_person(full_name=f"Soon {tag}", email=f"soon-{tag}@example.org", manager_id=user("officer2").id)
    late = add_person(full_name=f"Late {tag}", email=f"late-{tag}@example.org")
    managed = add_person(full_name=f"Managed {tag}", manager_id=user("officer2").id)  # no email of their own
    add_person(full_name=f"Left {tag}", email=f"left-{tag}@example.org", left_on=today.isoformat())  # no reminder
    username = f"signin-{tag}"
    sm.add_user(username, "Sign", f"In {tag}", f"{username}@example.org", sm.find_role("Staff"), PASSWORD)
    two_years_ago = today - relativedelta(months=24)
    import_completions(f"{soon.employee_ref},{ELEARNING},{(two_years_ago + timedelta(days=10)).isoformat()}",
                       f"{late.employee_ref},{ELEARNING},{(two_years_ago - timedelta(days=3)).isoformat()}")
    deliver(inbox)

    run_reminders(today)
    messages = [m for m in deliver(inbox) if tag in m["To"] + m["Subject"]]
    sent = sorted((m["To"], m["Subject"]) for m in messages)
    due_on = (two_years_ago + timedelta(days=10) + relativedelta(months=24)).strftime("%d %b %Y")
    assert sent == sorted([
        (f"soon-{tag}@example.org", f"Your Prevent training refresher is due by {due_on}"),
        (f"late-{tag}@example.org", "Your Prevent training is overdue"),
        ("lead@example.org", f"Prevent training overdue: Late {tag}"),
        ("officer2@example.org", f"Prevent training overdue: Managed {tag}"),
        (f"{username}@example.org", "Your Prevent training is overdue"),
        ("lead@example.org", f"Prevent training overdue: Sign In {tag}"),
    ])
    by_subject = {(m["To"], m["Subject"]): m.get_payload() for m in messages}
    assert "/training/mine" in by_subject[(f"{username}@example.org", "Your Prevent training is overdue")]
    assert "send your certificate" in by_subject[(f"late-{tag}@example.org", "Your Prevent training is overdue")]
    assert "has not been recorded" in by_subject[("lead@example.org", f"Prevent training overdue: Sign In {tag}")]
    assert f"/training/staff/{late.id}" in by_subject[("lead@example.org", f"Prevent training overdue: Late {tag}")]
    assert f"/training/staff/{managed.id}" in by_subject[("officer2@example.org",
                                                          f"Prevent training overdue: Managed {tag}")]

    run_reminders(today)
    run_reminders(today + timedelta(days=1))
    assert [m for m in deliver(inbox) if tag in m["To"] + m["Subject"]] == []
