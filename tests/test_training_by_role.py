"""Training by role (issue 14, point 6a): the Prevent Lead requires courses of an app role or a team (a page,
audited); compliance counts any current Prevent training plus every required course; a course's kind and its own
refresher interval; `GET /api/v1/reference/courses` for whoever may record training; `evidence()`."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from app.extensions import db
from app.kernel.errors import Forbidden, InvalidData
from app.kernel.uow import unit_of_work
from app.models import AuditEvent, CourseKind, StaffMember, TrainingCourse, TrainingRequirement
from app.training import requirements
from app.training import use_cases as training
from app.training.evidence import evidence
from tests.conftest import csrf_token, make_user, user
from tests.test_pages import text
from tests.test_training import CHANNEL, ELEARNING, a_past_day, add_person, course_id, import_completions, marker

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")


def recent() -> str:
    """A completion date that keeps the training current (and not due soon) for a good while."""
    return (date.today() - timedelta(days=40)).isoformat()


def require(payload: dict) -> TrainingRequirement:
    return requirements.add_requirement(user("lead"), payload)


def new_course(kind: CourseKind = CourseKind.other, refresher_months: int | None = None) -> TrainingCourse:
    with unit_of_work() as session:
        course = TrainingCourse(name=f"Course {marker()}", kind=kind, refresher_months=refresher_months)
        session.add(course)
    return course


def team_figures(team: str) -> training.Figures:
    return next(f for f in training.compliance(db.session, user("lead")).teams if f.label == team)


def person_row(staff_id: int) -> training.StaffRow | None:
    found = training.compliance(db.session, user("lead"))
    return next((row for row in [*found.overdue, *found.due_soon] if row.staff.id == staff_id), None)


def audit_actions(requirement_id: int) -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "TrainingRequirement", AuditEvent.entity_id == str(requirement_id))
        .order_by(AuditEvent.seq)).all()


# --- the courses, for API clients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_everyone_who_may_record_training_lists_the_courses(api, role):
    retired = new_course()
    with unit_of_work() as session:
        session.get(TrainingCourse, retired.id).active = False
    answer = api(role).get("/api/v1/reference/courses")
    assert answer.status_code == 200  # every role records its own training (can_record Training)
    courses = {c["name"]: c for c in answer.get_json()["result"]}
    assert courses[ELEARNING] == {"id": course_id(ELEARNING), "name": ELEARNING, "kind": "prevent",
                                  "refresher_months": None}
    assert retired.name not in courses
    # The id listed is one a completion can be recorded with.
    recorded = api(role).post("/api/v1/training_record/", json={"course_id": courses[CHANNEL]["id"],
                                                                "completed_on": a_past_day().isoformat()})
    assert recorded.status_code == 201


def test_signed_out_callers_cannot_list_the_courses(api):
    assert api(None).get("/api/v1/reference/courses").status_code == 401


# --- the rule -------------------------------------------------------------------------------------------------

def test_with_nothing_required_any_current_prevent_course_is_enough_and_other_courses_are_not():
    team = f"Default {marker()}"
    prevent_only, other_only = add_person(team), add_person(team)
    other = new_course(CourseKind.other)
    import_completions(f"{prevent_only.employee_ref},{CHANNEL},{recent()}",
                       f"{other_only.employee_ref},{other.name},{recent()}")
    figures = team_figures(team)
    assert (figures.active, figures.current, figures.overdue) == (2, 1, 1)
    row = person_row(other_only.id)
    assert row.status == training.TrainingStatus.overdue
    assert [(item.course, item.refresher_due) for item in row.outstanding] == [(requirements.PREVENT_TRAINING, None)]


def test_a_course_required_of_a_team_counts_for_its_members_only_until_removed():
    team, elsewhere = f"Care {marker()}", f"Other {marker()}"
    both, prevent_only, not_in_team = add_person(team), add_person(team), add_person(elsewhere)
    import_completions(f"{both.employee_ref},{ELEARNING},{recent()}", f"{both.employee_ref},{CHANNEL},{recent()}",
                       f"{prevent_only.employee_ref},{ELEARNING},{recent()}",
                       f"{not_in_team.employee_ref},{ELEARNING},{recent()}")
    requirement = require({"course_id": course_id(CHANNEL), "team": f"  {team.upper()} "})  # any case and spacing
    assert requirement.team == team.upper()
    assert (team_figures(team).active, team_figures(team).current) == (2, 1)
    assert team_figures(elsewhere).current == 1
    row = person_row(prevent_only.id)
    assert row.status == training.TrainingStatus.overdue
    assert [(item.course, item.refresher_due) for item in row.outstanding] == [(CHANNEL, None)]

    requirements.remove_requirement(user("lead"), requirement.id)
    assert team_figures(team).current == 2
    assert audit_actions(requirement.id) == ["add_training_requirement", "remove_training_requirement"]


def test_a_course_required_of_a_role_counts_for_everyone_with_it():
    officer, staff = make_user("Safeguarding Officer", "officer"), make_user("Staff", "staff")
    for name in (officer, staff):
        training.record_completion(user(name), {"course_id": course_id(ELEARNING), "completed_on": recent()})
    other = new_course(CourseKind.other)
    require({"course_id": other.id, "role": "Safeguarding Officer"})
    officer_entry = db.session.scalar(sa.select(StaffMember).where(StaffMember.user_id == user(officer).id))
    staff_entry = db.session.scalar(sa.select(StaffMember).where(StaffMember.user_id == user(staff).id))
    row = person_row(officer_entry.id)
    assert row.status == training.TrainingStatus.overdue and [i.course for i in row.outstanding] == [other.name]
    assert person_row(staff_entry.id) is None  # current: nothing more is required of Staff

    # Once done, the officer is current: both items hold.
    training.record_completion(user(officer), {"course_id": other.id, "completed_on": recent()})
    assert person_row(officer_entry.id) is None


def test_the_earliest_item_sets_when_someone_is_due():
    team = f"Due {marker()}"
    person = add_person(team)
    soon = (date.today() - relativedelta(months=24) + timedelta(days=10)).isoformat()  # the refresher in 10 days
    import_completions(f"{person.employee_ref},{ELEARNING},{recent()}", f"{person.employee_ref},{CHANNEL},{soon}")
    require({"course_id": course_id(CHANNEL), "team": team})
    row = person_row(person.id)
    assert row.status == training.TrainingStatus.due_soon
    assert [item.course for item in row.outstanding] == [CHANNEL]
    assert team_figures(team).current == 1 and team_figures(team).due_soon == 1


def test_a_course_of_its_own_refresher_interval_falls_due_sooner():
    course = new_course(CourseKind.prevent, refresher_months=12)
    completed = date.today() - relativedelta(months=13)
    record = training.record_completion(user("staff2"), {"course_id": course.id, "completed_on": completed.isoformat()})
    assert record.refresher_due == completed + relativedelta(months=12)
    standard = training.record_completion(user("staff2"), {"course_id": course_id(ELEARNING),
                                                            "completed_on": completed.isoformat()})
    assert standard.refresher_due == completed + relativedelta(months=24)


# --- the Lead's page ----------------------------------------------------------------------------------------------

def form(client, **fields) -> dict:
    return {"csrf_token": csrf_token(client.get("/training/requirements/").get_data(as_text=True)), **fields}


def test_the_lead_requires_a_course_of_a_role_on_the_page_and_removes_it(web):
    lead = web("lead")
    other = new_course()
    response = lead.post("/training/requirements/", data=form(lead, course_id=str(other.id),
                                                                role="Programme Director"))
    assert response.status_code == 302
    requirement = db.session.scalar(sa.select(TrainingRequirement).where(TrainingRequirement.course_id == other.id))
    assert (requirement.role, requirement.team, requirement.active) == ("Programme Director", None, True)
    page = text(lead.get("/training/requirements/").get_data(as_text=True))
    assert f"{other.name} Everyone with the role Programme Director" in page
    again = lead.post("/training/requirements/", data=form(lead, course_id=str(other.id), role="Programme Director"))
    assert again.status_code == 409 and "required of them already" in again.get_data(as_text=True)

    assert lead.post(f"/training/requirements/{requirement.id}/remove", data=form(lead)).status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingRequirement, requirement.id).active is False
    # Asked again, the same requirement comes back.
    assert lead.post("/training/requirements/", data=form(lead, course_id=str(other.id),
                                                          role="Programme Director")).status_code == 302
    assert audit_actions(requirement.id) == ["add_training_requirement", "remove_training_requirement",
                                             "restore_training_requirement"]


@pytest.mark.parametrize("fields, message", [
    ({"role": "Staff"}, "Choose the course they need"),
    ({"course_id": "COURSE"}, "Choose the role, or the team, that needs this course"),
    ({"course_id": "COURSE", "role": "Staff", "team": "Care"}, "Choose a role or a team, not both"),
    ({"course_id": "COURSE", "role": "Janitor"}, "Choose one of"),
    ({"course_id": "999999", "role": "Staff"}, "Choose a course from the list"),
    ({"course_id": "COURSE", "team": "x" * 101}, "100"),
])
def test_a_refused_requirement_says_what_to_fix_and_adds_nothing(web, fields, message):
    lead = web("lead")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRequirement))
    fields = {k: (str(course_id(CHANNEL)) if v == "COURSE" else v) for k, v in fields.items()}
    response = lead.post("/training/requirements/", data=form(lead, **fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in text(page) and 'class="error-summary"' in page
    if fields.get("team"):
        assert fields["team"] in page  # what was typed is shown again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRequirement)) == before


def test_the_use_case_refuses_a_malformed_body_with_each_field_named():
    with pytest.raises(InvalidData) as refused:
        require({"course_id": "one", "role": 7})
    assert set(refused.value.errors) >= {"course_id", "role"}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_lead_keeps_training_by_role(web, role):
    client = web(role)
    requirement = require({"course_id": course_id(CHANNEL), "team": f"T {marker()}"})
    token = csrf_token(client.get("/concerns/new").get_data(as_text=True))
    answers = [client.get("/training/requirements/"),
               client.post("/training/requirements/", data={"csrf_token": token, "course_id": course_id(ELEARNING),
                                                            "team": f"T {marker()}"}),
               client.post(f"/training/requirements/{requirement.id}/remove", data={"csrf_token": token})]
    assert [a.status_code for a in answers] == ([200, 302, 302] if role == "lead" else [403] * 3)
    with pytest.raises(Forbidden) if role != "lead" else nullcontext():
        requirements.add_requirement(user(role), {"course_id": course_id(ELEARNING), "team": f"T {marker()}"})


# --- what compliance shows ----------------------------------------------------------------------------------------

def test_the_compliance_api_and_page_show_the_requirements_and_what_is_outstanding(api, web):
    team = f"Shown {marker()}"
    person = add_person(team)
    import_completions(f"{person.employee_ref},{ELEARNING},{recent()}")
    require({"course_id": course_id(CHANNEL), "team": team})
    body = api("officer").get("/api/v1/training_record/compliance").get_json()["result"]
    assert {"course_id": course_id(CHANNEL), "course": CHANNEL, "role": None, "team": team} in \
        [{k: r[k] for k in ("course_id", "course", "role", "team")} for r in body["requirements"]]
    [row] = [r for r in body["overdue"] if r["staff_member_id"] == person.id]
    assert row["outstanding"] == [{"course": CHANNEL, "refresher_due": None}]
    governance = api("governance").get("/api/v1/training_record/compliance").get_data(as_text=True)
    assert person.full_name not in governance and CHANNEL in governance  # the rule, never the names
    page = text(web("lead").get("/training/compliance/").get_data(as_text=True))
    assert f"{CHANNEL}: the team {team}" in page and f"{CHANNEL} (none recorded)" in page


# --- the evidence pack's figures ----------------------------------------------------------------------------------

def test_evidence_gives_the_figures_against_the_requirements_and_no_names():
    team = f"Pack {marker()}"
    person = add_person(team)
    import_completions(f"{person.employee_ref},{ELEARNING},{recent()}")
    today = date.today()
    before = evidence(db.session, user("governance"), today - timedelta(days=90), today)
    assert before["training"]["rule"] in ("any_prevent_training", "requirements")
    assert next(t for t in before["training"]["teams"] if t["team"] == team)["current"] == 1
    require({"course_id": course_id(CHANNEL), "team": team})
    after = evidence(db.session, user("lead"), today - timedelta(days=90), today + timedelta(days=30))
    assert after["training"]["rule"] == "requirements" and after["training"]["as_of"] == today.isoformat()
    assert next(t for t in after["training"]["teams"] if t["team"] == team)["current"] == 0
    assert after["training"]["overall"]["current"] == before["training"]["overall"]["current"] - 1
    assert person.full_name not in str(after)
    for role in ("staff", "director", "admin"):
        with pytest.raises(Forbidden):
            evidence(db.session, user(role), today, today)


def test_the_lead_adds_a_course_of_another_kind_with_its_own_interval_and_a_bad_interval_is_refused(web):
    lead = web("lead")
    name = f"Online safety {marker()}"
    token = csrf_token(lead.get("/trainingcourseview/add").get_data(as_text=True))
    refused = lead.post("/trainingcourseview/add", data={"name": name, "kind": "other", "refresher_months": "0",
                                                         "active": "y", "csrf_token": token})
    assert refused.status_code == 200 and "Number must be between 1 and 120" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(TrainingCourse).where(TrainingCourse.name == name)) is None
    lead.post("/trainingcourseview/add", data={"name": name, "kind": "other", "refresher_months": "12",
                                               "active": "y", "csrf_token": token})
    course = db.session.scalar(sa.select(TrainingCourse).where(TrainingCourse.name == name))
    assert (course.kind, course.refresher_months) == (CourseKind.other, 12)
