"""The forms in GOV.UK's pattern (issue 12): dates typed UK style as day/month/year boxes or one dd/mm/yyyy box,
joined by the page layer into what the use cases take; messages in each form's own words by their fields, with an
error summary that links to them; the API's messages unchanged."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from app.kernel.page_forms import NOT_A_DATE, Words, for_use_case, read_time, specific
from tests.conftest import csrf_token
from tests.test_pages import UK, add_action, case_page, section, text

REQUIRED = "This field is required."


# --- the page layer on its own ----------------------------------------------------------------------------------

def test_date_boxes_are_joined_into_an_iso_date_and_time():
    payload, problems = for_use_case({
        "occurred_at-day": "7", "occurred_at-month": "3", "occurred_at-year": "2026", "occurred_at-time": "2:05pm",
        "subject": {"full_name": "A", "date_of_birth-day": "14", "date_of_birth-month": "09",
                    "date_of_birth-year": "2007"}, "location": "Library"})
    assert payload == {"occurred_at": "2026-03-07T14:05", "location": "Library",
                       "subject": {"full_name": "A", "date_of_birth": "2007-09-14"}}
    assert problems == {}


def test_what_is_wrong_with_a_date_is_named():
    cases = {
        ("31", "2", "2026", "10:00"): "not_real",
        ("", "2", "2026", "10:00"): "missing:day",
        ("3", "", "2026", "10:00"): "missing:month",
        ("3", "2", "202601", "10:00"): "year",
        ("3", "2", "26", "10:00"): "year",
        ("3", "x", "2026", "10:00"): "not_real",
        ("3", "2", "2026", ""): "time_blank",
        ("3", "2", "2026", "25:00"): "time_bad",
    }
    for (day, month, year, time), problem in cases.items():
        payload, problems = for_use_case({"when-day": day, "when-month": month, "when-year": year, "when-time": time})
        assert (payload["when"], problems) == (NOT_A_DATE, {"when": problem}), (day, month, year, time)
    blank, problems = for_use_case({"when-day": "", "when-month": " ", "when-year": "", "when-time": ""})
    assert (blank, problems) == ({"when": ""}, {})  # the use case says whether the date was needed


def test_one_date_box_is_read_in_uk_order_and_iso_still_taken():
    payload, problems = for_use_case({"due_date": "27/3/2026", "panel_date": "2026-04-01", "exit_date": "31/02/2026",
                                      "next": "soon", "note": "27/3/2026"}, dates=("due_date", "panel_date",
                                                                                  "exit_date", "next"))
    assert payload == {"due_date": "2026-03-27", "panel_date": "2026-04-01", "exit_date": NOT_A_DATE, "next": "soon",
                       "note": "27/3/2026"}  # a text field is never read as a date
    assert problems == {"exit_date": "not_real", "next": "format"}


def test_times_of_day_are_read_as_people_write_them():
    assert [read_time(t) for t in ("14:30", "1430", "14.30", "9", "2pm", "12am", "12:15 p.m.", "13pm", "9:75")] == [
        (14, 30), (14, 30), (14, 30), (9, 0), (14, 0), (0, 0), (12, 15), None, None]


def test_the_use_cases_messages_are_worded_for_the_form_in_its_order():
    table = {"description": Words(required="Enter what you saw or heard"),
             "occurred_at": Words(date="the date it happened", time="the time it happened")}
    errors = {"occurred_at": ["This cannot be in the future."], "description": [REQUIRED],
              "location": ["Keep this under 200 characters."]}
    assert list(specific(errors, table).items()) == [
        ("description", ["Enter what you saw or heard"]),
        ("occurred_at", ["The date it happened must be today or in the past"]),
        ("location", ["Keep this under 200 characters."])]
    assert specific({"occurred_at": [REQUIRED]}, table) == {"occurred_at": ["Enter the date it happened"]}
    assert specific({"occurred_at": ["Enter a date and time as YYYY-MM-DDTHH:MM."]}, table,
                    {"occurred_at": "missing:month"}) == {"occurred_at": ["The date it happened must include a month"]}
    assert specific({"occurred_at": ["Enter a date and time as YYYY-MM-DDTHH:MM."]}, table,
                    {"occurred_at": "time_blank"}) == {"occurred_at": ["Enter the time it happened"]}


# --- the pages --------------------------------------------------------------------------------------------------

def concern_form(client, name: str, when: datetime | None = None, **fields) -> dict:
    page = client.get("/concerns/new").get_data(as_text=True)
    when = when or datetime.now(UK) - timedelta(hours=2)
    return {"csrf_token": csrf_token(page), "subject.full_name": name, "subject.subject_type": "learner",
            "description": f"Said something worrying about {name}.",
            "occurred_at-day": str(when.day), "occurred_at-month": str(when.month),
            "occurred_at-year": str(when.year), "occurred_at-time": when.strftime("%H:%M"), **fields}


def field_message(page: str, field_id: str) -> str:
    """The message a field's aria-describedby points to (its last id), as read."""
    tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    assert tag, f"no field {field_id}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', tag.group(0)).group(1).split()[-1]
    message = re.search(rf'id="{re.escape(described)}"[^>]*>(.*?</span>.*?)</span>', page, re.S)
    assert message, f"no element {described}"
    return text(message.group(1))


def summary_links(page: str) -> dict[str, str]:
    summary = section(page, '<div class="error-summary"', "</ul>")
    opening = summary[:summary.index(">")]
    assert 'role="alert"' in opening and 'tabindex="-1"' in opening and "There is a problem" in text(summary)
    return {text(label): href for href, label in re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary)}


def test_a_concern_is_raised_with_its_date_in_boxes_and_its_time_in_one(web, ctx):
    from app.cases import use_cases as cases
    from app.extensions import db
    from tests.conftest import user

    staff = web("staff")
    when = (datetime.now(UK) - timedelta(days=3)).replace(hour=16, minute=45, second=0, microsecond=0)
    response = staff.post("/concerns/new", data=concern_form(
        staff, f"Boxes {uuid.uuid4().hex[:8]}", when, **{"subject.date_of_birth-day": "9",
                                                         "subject.date_of_birth-month": "3",
                                                         "subject.date_of_birth-year": "2008"}))
    assert response.status_code == 302, text(response.get_data(as_text=True))[:600]
    case_id = int(re.search(r"/concerns/(\d+)/raised", response.headers["Location"]).group(1))
    case = cases.get_case(db.session, user("lead"), case_id).case
    assert case.occurred_at.astimezone(UK).replace(tzinfo=None) == when.replace(tzinfo=None)
    assert case.subject.date_of_birth == date(2008, 3, 9)


def test_an_impossible_or_future_date_is_said_plainly_by_its_field_and_what_was_typed_stays(web):
    staff = web("staff")
    impossible = staff.post("/concerns/new", data={**concern_form(staff, "Impossible Date"),
                                                   "occurred_at-day": "31", "occurred_at-month": "2",
                                                   "occurred_at-year": "2026"})
    assert impossible.status_code == 422
    page = impossible.get_data(as_text=True)
    assert summary_links(page) == {"The date it happened must be a real date": "occurred_at"}
    assert field_message(page, "occurred_at") == "Error: The date it happened must be a real date"
    assert re.search(r'name="occurred_at-day"[^>]*value="31"', page)

    tomorrow = datetime.now(UK) + timedelta(days=2)
    future = staff.post("/concerns/new", data=concern_form(staff, "Future Date", tomorrow))
    assert future.status_code == 422
    assert summary_links(future.get_data(as_text=True)) == {
        "The date it happened must be today or in the past": "occurred_at"}

    no_month = staff.post("/concerns/new", data={**concern_form(staff, "No Month"), "occurred_at-month": ""})
    assert summary_links(no_month.get_data(as_text=True)) == {"The date it happened must include a month":
                                                              "occurred_at"}


def test_an_empty_concern_lists_every_error_in_the_order_of_the_page_each_tied_to_its_field(web):
    staff = web("staff")
    page = staff.get("/concerns/new").get_data(as_text=True)
    assert "For example, 27 3 2026" in text(page)
    for box, size in (("occurred_at", 2), ("occurred_at-month", 2), ("occurred_at-year", 4)):
        tag = re.search(rf'<input[^>]*id="{box}"[^>]*>', page).group(0)
        assert 'inputmode="numeric"' in tag and f'maxlength="{size}"' in tag, tag
    empty = {name: "" for name in re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', page)
             if name not in ("csrf_token", "form_token", "find", "immediate_danger", "police_called", "indicator_ids",
                             "dso_informed_verbally")}  # as a browser sends an empty form (boxes, no ticks)
    assert {"subject.full_name", "description", "occurred_at-day", "occurred_at-time"} <= set(empty)
    refused = staff.post("/concerns/new", data={**empty, "csrf_token": csrf_token(page), "immediate_danger": "yes"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    links = summary_links(page)
    assert links == {
        "Say whether the police have been called": "police_called",
        "Enter the full name of the person the concern is about": "subject-full_name",
        "Choose who they are: a learner, a colleague or someone else": "subject-subject_type",
        "Enter what you saw or heard": "description",
        "Enter the date it happened": "occurred_at"}
    for message, field_id in links.items():
        assert field_message(page, field_id) == f"Error: {message}"
    # Indicators are grouped by kind, each group a fieldset with its legend.
    for legend in ("Indicators", "Vulnerabilities", "Contributory factors"):
        assert re.search(rf'<fieldset[^>]*>\s*<legend class="h4">{legend}</legend>', page), legend


def test_the_api_keeps_its_own_messages(api):
    refused = api("staff").post("/api/v1/case/", json={"subject": {"full_name": "Api Words",
                                                                       "subject_type": "learner"}})
    assert refused.status_code == 422
    assert refused.get_json()["message"]["description"] == [REQUIRED]


def test_case_page_dates_are_typed_in_uk_order_and_refusals_are_worded_for_the_form(web, ctx):
    from tests.test_pages import raise_concern

    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, f"Case Dates {uuid.uuid4().hex[:8]}")
    due = date.today() + timedelta(days=10)
    page = case_page(officer, case_id)
    form = section(page, 'id="add-action"', "</details>")
    owner = re.search(r'<option value="(\d+)"[^>]*>Officer Tester</option>', form).group(1)
    made = officer.post(f"/cases/{case_id}/actions", data={
        "csrf_token": csrf_token(form), "title": "Speak to the tutor", "owner_id": owner,
        "due_date": due.strftime("%d/%m/%Y")})
    assert made.status_code == 302
    assert f"due {due.strftime('%d %b %Y')}" in text(section(case_page(officer, case_id), 'id="actions"', "</ul>"))

    refused = officer.post(f"/cases/{case_id}/actions", data={
        "csrf_token": csrf_token(form), "title": "", "owner_id": owner, "due_date": "30/02/2030"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert summary_links(page) == {"Enter what needs doing": "action-title",
                                   "The date it is due must be a real date": "action-due"}
    assert field_message(page, "action-due") == "Error: The date it is due must be a real date"
    assert re.search(r'name="due_date"[^>]*value="30/02/2030"', page)  # as typed
    assert add_action(officer, case_id, "ISO still taken", "Officer Tester", due).status_code == 302


def test_a_role_grant_decided_without_a_reason_is_shown_again_with_its_box_marked(web, new_user, ctx):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import RoleGrantRequest
    from tests.test_separation_of_duties import edit_user, fresh, roles_of, token

    asking, staff_name = new_user("Admin", prefix="admin"), new_user("Staff", prefix="staff")
    edit_user(web(asking), staff_name, roles=["Staff", "Safeguarding Officer"], reason="Covering leave")
    grant_id = db.session.scalar(sa.select(RoleGrantRequest.id).where(RoleGrantRequest.user_id == fresh(staff_name).id))
    lead = web("lead")
    refused = lead.post(f"/role-grants/{grant_id}/approve", data={"reason": "  ", "csrf_token": token(lead)})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    message = "Give the reason for your decision: it goes in the audit trail"
    assert summary_links(page) == {message: f"reason-{grant_id}"}
    assert field_message(page, f"reason-{grant_id}") == f"Error: {message}"
    assert roles_of(staff_name) == ["Staff"]
    lead.post(f"/role-grants/{grant_id}/decline", data={"reason": "Not needed", "csrf_token": token(lead)})


def test_the_board_report_period_is_typed_and_shown_in_uk_order(web):
    governance = web("governance")
    uk = governance.get("/reports/board?from=01/04/2019&to=31/03/2020")
    assert uk.status_code == 200
    page = uk.get_data(as_text=True)
    assert "01 Apr 2019 to 31 Mar 2020" in text(section(page, "<h1>", "</h1>"))
    assert 'name="from" value="01/04/2019"' in page and 'name="to" value="31/03/2020"' in page
    iso = governance.get("/reports/board?from=2019-04-01&to=2020-03-31").get_data(as_text=True)
    assert "01 Apr 2019 to 31 Mar 2020" in text(section(iso, "<h1>", "</h1>"))


def test_sign_in_help_without_a_reason_is_shown_again_with_its_box_marked(web, ctx):
    from tests.conftest import user

    admin = web("admin")
    officer_id = user("officer").id
    page = admin.get("/two-step/users/").get_data(as_text=True)
    refused = admin.post(f"/two-step/users/{officer_id}/reset", data={"reason": " ", "csrf_token": csrf_token(page)})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    message = "Give the reason for the reset: it goes in the audit trail"
    assert summary_links(page) == {message: f"reason-{officer_id}"}
    assert field_message(page, f"reason-{officer_id}") == f"Error: {message}"
