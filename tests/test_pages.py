"""The pages as people use them: a signed-in test client posting the real forms, CSRF token included.

The database is shared by the whole test session, so every test names its own subjects and never counts all cases.
"""
from __future__ import annotations

import html as htmllib
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from tests.conftest import csrf_token

UK = ZoneInfo("Europe/London")
REFERENCE_RE = re.compile(r"PC-\d{4}-\d{4,}")


# --- helpers: read pages the way a person would ------------------------------------------------------------------

def unique_name(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


def text(fragment: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace folded."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, start: str, end: str) -> str:
    """The part of the page from `start` to the first `end` after it."""
    begin = page.find(start)
    assert begin >= 0, f"{start!r} is not on the page"
    stop = page.find(end, begin)
    assert stop >= 0, f"{end!r} does not follow {start!r}"
    return page[begin:stop]


def heading(page: str) -> str:
    return text(section(page, "<h1>", "</h1>"))


def chronology(page: str) -> str:
    return text(section(page, 'id="chronology"', "</ol>"))


def audit_trail(page: str) -> str:
    return text(section(page, 'id="audit-trail"', "</table>"))


def event_form(page: str, event: str) -> str:
    return section(page, f'id="event-{event}"', "</details>")


def field_value(fragment: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', fragment)
    assert match, f"no {name} field"
    return htmllib.unescape(match.group(1))


def uk_local(delta: timedelta = timedelta(hours=-2)) -> str:
    """A value for a datetime-local input, in UK time as the page reads it."""
    return (datetime.now(UK) + delta).strftime("%Y-%m-%dT%H:%M")


def indicator_choices(form_page: str) -> dict[str, str]:
    """Indicator label -> checkbox value, as offered on the concern form."""
    found = re.findall(r'name="indicator_ids" value="(\d+)"[^>]*>\s*([^<]+?)\s*</label>', form_page)
    return {label: value for value, label in found}


def raise_concern(client, full_name: str, *, date_of_birth: str = "2007-05-06", description: str = "",
                  **fields) -> int:
    """Posts the concern form; returns the new case's id from the confirmation page's address."""
    page = client.get("/concerns/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "subject.full_name": full_name,
        "subject.subject_type": "learner",
        "subject.date_of_birth": date_of_birth,
        "description": description or f"Said something worrying about {full_name}.",
        "occurred_at": uk_local(),
        "location": "Workshop 2",
        **fields,
    }
    response = client.post("/concerns/new", data=data)
    assert response.status_code == 302, text(response.get_data(as_text=True))[:500]
    match = re.search(r"/concerns/(\d+)/raised$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def case_page(client, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_event(client, case_id: int, event: str, reason: str, *, version=None, **data):
    """Takes an event through its form on the case page, with the version the page shows unless one is given."""
    page = case_page(client, case_id)
    form = event_form(page, event)
    return client.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_token(form), "event": event, "reason": reason,
        "version": field_value(form, "version") if version is None else version, **data,
    })


def take_event(client, case_id: int, event: str, reason: str, **data) -> str:
    response = post_event(client, case_id, event, reason, **data)
    assert response.status_code == 302, (event, text(response.get_data(as_text=True))[:800])
    return case_page(client, case_id)


def page_version(page: str) -> str:
    return field_value(section(page, 'class="event-form"', "</form>"), "version")


class ListedCase(NamedTuple):
    about: str  # the subject's name
    flags: set[str]  # the labels shown: Urgent, Overdue actions, Restricted


def case_list(client, **filters) -> dict[str, ListedCase]:
    """Every row of /cases/ with these filters, across all pages, in order: reference -> what the row shows."""
    rows: dict[str, ListedCase] = {}
    page_number = 0
    while True:
        response = client.get("/cases/", query_string={**filters, "page": page_number})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        for row in re.findall(r"<tr class=[^>]*>(.*?)</tr>", section(page, "<tbody>", "</tbody>"), re.S):
            reference = REFERENCE_RE.search(row)
            if reference:
                cells = re.findall(r"<td>(.*?)</td>", row, re.S)
                rows[reference.group(0)] = ListedCase(
                    about=text(cells[1]), flags=set(re.findall(r'<span class="label label-\w+">([^<]+)</span>', row)))
        if ">Next</a>" not in page:
            return rows
        page_number += 1


def reference_of(client, case_id: int) -> str:
    return REFERENCE_RE.search(heading(case_page(client, case_id))).group(0)


def add_action(client, case_id: int, title: str, owner_name: str, due: date):
    page = case_page(client, case_id)
    form = section(page, 'id="add-action"', "</details>")
    owner_id = re.search(rf'<option value="(\d+)"[^>]*>{re.escape(owner_name)}</option>', form)
    assert owner_id, f"{owner_name} is not offered as an action owner"
    return client.post(f"/cases/{case_id}/actions", data={
        "csrf_token": csrf_token(form), "title": title, "owner_id": owner_id.group(1),
        "due_date": due.isoformat()})


# --- the whole pathway --------------------------------------------------------------------------------------------

def test_a_concern_goes_from_staff_through_channel_to_closure_and_is_reopened_by_the_lead(web):
    staff, officer, lead = web("staff"), web("officer"), web("lead")
    name = unique_name("Journey Subject")
    form_page = staff.get("/concerns/new").get_data(as_text=True)
    indicators = indicator_choices(form_page)
    ticked = ["Withdrawn", "Change in social circles"]

    response = staff.post("/concerns/new", data={
        "csrf_token": csrf_token(form_page),
        "immediate_danger": "yes", "police_called": "yes", "police_incident_number": "INC-4471",
        "action_taken": "Moved the group to another room",
        "subject.full_name": name, "subject.subject_type": "learner", "subject.date_of_birth": "2008-03-09",
        "subject.programme": "Level 3 Engineering",
        "description": 'They said "everyone will see on Friday".',
        "occurred_at": uk_local(), "location": "Canteen",
        "indicator_ids": [indicators[label] for label in ticked],
    }, follow_redirects=True)
    assert response.status_code == 200
    confirmation = response.get_data(as_text=True)
    assert "Thank you: your concern has been sent" in text(confirmation)
    case_id = int(re.fullmatch(r"/concerns/(\d+)/raised", response.request.path).group(1))
    reference = REFERENCE_RE.search(text(confirmation)).group(0)
    # PC-<year raised>-<case number>, e.g. PC-2026-0042.
    assert reference == f"PC-{datetime.now(UTC).year}-{case_id:04d}"
    assert "call 999" in text(confirmation)

    # The reporter finds it among their concerns, and sees only the receipt.
    mine = staff.get("/concerns/mine").get_data(as_text=True)
    assert f'href="/cases/{case_id}">{reference}</a>' in mine
    receipt = text(case_page(staff, case_id))
    assert reference in receipt and "Sent, waiting for a Safeguarding Officer" in receipt
    assert "everyone will see on Friday" in receipt

    # Officers see the whole concern: urgent, police called, indicators ticked.
    page = case_page(officer, case_id)
    assert "Urgent" in heading(page) and "reported" in heading(page)
    about = text(page)
    assert name in about and "police called (incident INC-4471)" in about
    assert all(label in text(section(page, 'class="indicator-list"', "</ul>")) for label in ticked)
    assert case_list(officer, urgent="yes")[reference] == ListedCase(about=name, flags={"Urgent"})

    steps = [
        ("acknowledge", {}, "under review"),
        ("refer_to_police", {"referral_date": date.today().isoformat(), "subject_informed": "yes",
                             "police_reference": "PR-88"}, "referred to police"),
        ("record_gateway_outcome", {"outcome": "channel", "decided_on": date.today().isoformat()},
         "channel screening"),
        ("schedule_panel", {"panel_date": date.today().isoformat(), "local_authority": "Northshire Council"},
         "channel panel"),
        ("record_panel_decision", {"decision": "adopted", "consent": "given", "consent_by": "subject"},
         "channel support"),
        # Support ended 13 months ago (recorded late): both post-exit reviews are open to record.
        ("exit_support", {"exit_date": (date.today() - relativedelta(months=13)).isoformat(),
                          "exit_reason": "Plan completed"}, "post exit review"),
        ("record_review", {"review": "6_months", "outcome_note": "Settled at six months"}, "post exit review"),
        ("record_review", {"review": "12_months", "outcome_note": "Settled at twelve months"}, "closed"),
    ]
    reasons = []
    for number, (event, data, state) in enumerate(steps, 1):
        reason = f"Step {number} {event}: decided after checking with the tutor"
        reasons.append(reason)
        page = take_event(officer, case_id, event, reason, **data)
        assert state in heading(page), (event, heading(page))
        assert reason in chronology(page)
    assert "Closed: support completed" in text(page)
    assert "PR-88" in text(page) and "Northshire Council" in text(page)
    # Reopening is the Lead's alone; the officer is not offered it.
    assert 'id="event-reopen"' not in page
    assert 'id="audit-trail"' not in page

    reopen_reason = "New information from the employer"
    page = take_event(lead, case_id, "reopen", reopen_reason)
    assert "under review" in heading(page)
    entries = chronology(page)
    for reason in reasons + [reopen_reason]:
        assert reason in entries
    # Time order: each step follows the one before it.
    positions = [entries.index(reason) for reason in reasons + [reopen_reason]]
    assert positions == sorted(positions)
    trail = audit_trail(page)
    for reason in reasons + [reopen_reason]:
        assert reason in trail

    # The reporter still sees only the status of their concern, never the officers' reasons.
    receipt_page = case_page(staff, case_id)
    receipt = text(receipt_page)
    assert "Acknowledged: a Safeguarding Officer is looking into it" in receipt
    assert 'id="chronology"' not in receipt_page and 'id="event-' not in receipt_page
    for reason in reasons + [reopen_reason]:
        assert reason not in receipt
    assert "PR-88" not in receipt and "Northshire Council" not in receipt


# --- refusals keep what was typed ---------------------------------------------------------------------------------

def test_a_decision_without_a_reason_is_refused_and_keeps_what_was_typed(web):
    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, unique_name("No Reason"))
    take_event(officer, case_id, "acknowledge", "Acknowledged")

    response = post_event(officer, case_id, "refer_to_police", "", referral_date=date.today().isoformat(),
                          subject_informed="no", police_reference="TYPED-REF-31")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Some fields need attention: nothing was saved yet." in text(page)
    assert re.search(r'<details class="event-form"\s+open\s+id="event-refer_to_police"', page)
    form = event_form(page, "refer_to_police")
    assert "Enter the decision and your reasons" in text(section(form, 'for="refer_to_police-reason"', "</div>"))
    assert field_value(form, "police_reference") == "TYPED-REF-31"
    assert field_value(form, "referral_date") == date.today().isoformat()
    assert re.search(r'name="subject_informed" value="no"\s+checked', form)
    assert "under review" in heading(case_page(officer, case_id))


def test_an_event_not_allowed_in_this_state_is_refused_and_changes_nothing(web):
    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, unique_name("Not Allowed"))
    before = case_page(officer, case_id)
    reason = "Closing straight away without acknowledging"

    response = officer.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_token(before), "event": "close", "outcome": "no_further_action", "reason": reason,
        "version": page_version(before)})
    assert response.status_code == 409
    assert "'close' is not allowed while the case is reported." in text(response.get_data(as_text=True))

    after = case_page(officer, case_id)
    assert "reported" in heading(after) and "Closed" not in text(after)
    assert reason not in chronology(after)
    assert page_version(after) == page_version(before)


def test_a_decision_on_a_case_that_changed_meanwhile_is_refused_and_the_reason_is_kept(web):
    staff, officer, officer2 = web("staff"), web("officer"), web("officer2")
    case_id = raise_concern(staff, unique_name("Two Officers"))
    seen_by_second_officer = case_page(officer2, case_id)

    take_event(officer, case_id, "acknowledge", "First officer got there first")
    typed = "Second officer's careful reasons, typed at length"
    response = officer2.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_token(seen_by_second_officer), "event": "acknowledge", "reason": typed,
        "version": page_version(seen_by_second_officer)})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The case changed since you opened it" in text(page)
    assert typed in text(section(page, 'class="panel panel-warning unsaved"', "</dl>"))
    entries = chronology(case_page(officer2, case_id))
    assert "First officer got there first" in entries and typed not in entries
    assert entries.count("reported → under review") == 1


def test_a_decision_still_open_after_someone_else_changed_the_case_is_refused_and_the_form_keeps_it(web):
    staff, officer, officer2 = web("staff"), web("officer"), web("officer2")
    case_id = raise_concern(staff, unique_name("Changed Meanwhile"))
    take_event(officer, case_id, "acknowledge", "Acknowledged")
    seen_by_second_officer = case_page(officer2, case_id)

    # The first officer records a 999 call: same state, but the case has changed.
    risk_form = section(case_page(officer, case_id), 'id="immediate-risk"', "</details>")
    assert officer.post(f"/cases/{case_id}/immediate-risk", data={
        "csrf_token": csrf_token(risk_form), "police_called": "yes", "police_incident_number": "INC-9",
        "note": "Threat made at the gate"}).status_code == 302

    typed = "Referral reasons the second officer spent a while on"
    response = officer2.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_token(seen_by_second_officer), "event": "refer_to_police", "reason": typed,
        "referral_date": date.today().isoformat(), "subject_informed": "yes", "police_reference": "KEPT-7",
        "version": page_version(seen_by_second_officer)})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The case changed since you opened it" in text(page)
    # The refreshed page shows the change, and the decision form is open with everything typed.
    assert "Urgent" in heading(page) and "Threat made at the gate" in chronology(page)
    form = event_form(page, "refer_to_police")
    assert typed in section(form, 'id="refer_to_police-reason"', "</textarea>")
    assert field_value(form, "police_reference") == "KEPT-7"
    assert field_value(form, "version") != page_version(seen_by_second_officer)
    assert "under review" in heading(case_page(officer2, case_id))


# --- actions --------------------------------------------------------------------------------------------------------

def test_an_action_past_its_due_date_shows_as_overdue_on_the_case_and_in_the_list(web):
    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, unique_name("Late Task"))
    reference = reference_of(officer, case_id)
    assert "Overdue actions" not in case_list(officer)[reference].flags

    response = add_action(officer, case_id, "Call the employer back", "Officer Tester",
                          date.today() - timedelta(days=3))
    assert response.status_code == 302
    actions = text(section(case_page(officer, case_id), 'id="actions"', "</ul>"))
    assert "Call the employer back" in actions and "Overdue" in actions
    assert "Overdue actions" in case_list(officer)[reference].flags


def test_an_action_due_later_is_not_overdue(web):
    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, unique_name("Later Task"))
    assert add_action(officer, case_id, "Meet the tutor", "Officer Tester",
                      date.today() + timedelta(days=7)).status_code == 302
    actions = text(section(case_page(officer, case_id), 'id="actions"', "</ul>"))
    assert "Meet the tutor" in actions and "Overdue" not in actions
    assert "Overdue actions" not in case_list(officer)[reference_of(officer, case_id)].flags


def test_completing_an_action_needs_a_completion_note(web):
    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, unique_name("Complete Action"))
    assert add_action(officer, case_id, "Check attendance records", "Officer Tester",
                      date.today() - timedelta(days=1)).status_code == 302
    page = case_page(officer, case_id)
    action_form = section(page, "/actions/", "</form>")
    action_id = re.match(r"/actions/(\d+)", action_form).group(1)
    url = f"/cases/{case_id}/actions/{action_id}"
    version = field_value(action_form, "version")

    refused = officer.post(url, data={"csrf_token": csrf_token(page), "version": version, "status": "done",
                                      "completion_note": ""})
    assert refused.status_code == 422
    refused_page = refused.get_data(as_text=True)
    assert "Enter a completion note: what was done" in text(section(refused_page, f'for="action-{action_id}-note"',
                                                                    "</div>"))
    assert "Overdue" in text(section(case_page(officer, case_id), 'id="actions"', "</ul>"))

    done = officer.post(url, data={"csrf_token": csrf_token(page), "version": version, "status": "done",
                                   "completion_note": "Attendance is normal"})
    assert done.status_code == 302
    page = case_page(officer, case_id)
    actions = text(section(page, 'id="actions"', "</ul>"))
    assert "done" in actions and "Attendance is normal" in actions and "Overdue" not in actions
    assert "Action done: Check attendance records" in chronology(page)


# --- the case list ----------------------------------------------------------------------------------------------------

def test_the_case_list_filters_by_state_urgency_overdue_actions_and_action_owner(web):
    staff, officer = web("staff"), web("officer")
    urgent = raise_concern(staff, unique_name("Filter Danger"), immediate_danger="yes", police_called="no")
    overdue = raise_concern(staff, unique_name("Filter Late"))
    quiet = raise_concern(staff, unique_name("Filter Quiet"))
    for case_id in (overdue, quiet):
        take_event(officer, case_id, "acknowledge", "Looking into it")
    assert add_action(officer, overdue, "Speak to the learner", "Officer2 Tester",
                      date.today() - timedelta(days=2)).status_code == 302
    refs = {case_id: reference_of(officer, case_id) for case_id in (urgent, overdue, quiet)}

    def shown(**filters):
        rows = case_list(officer, **filters)
        return {case_id for case_id, ref in refs.items() if ref in rows}

    assert shown() == {urgent, overdue, quiet}
    assert shown(status="under_review") == {overdue, quiet}
    assert shown(status="reported") == {urgent}
    assert shown(urgent="yes") == {urgent}
    assert shown(overdue="yes") == {overdue}
    list_page = officer.get("/cases/").get_data(as_text=True)
    officer2_id = re.search(r'<option value="(\d+)"[^>]*>Officer2 Tester</option>', list_page).group(1)
    assert shown(owner=officer2_id) == {overdue}
    assert shown(status="under_review", overdue="yes") == {overdue}
    # The chosen filters stay chosen on the page.
    filtered = officer.get("/cases/", query_string={"status": "under_review", "urgent": "yes"}).get_data(as_text=True)
    assert re.search(r'<option value="under_review"\s+selected', filtered)
    assert re.search(r'name="urgent" value="yes"\s+checked', filtered)


def test_urgent_cases_come_first_in_the_list(web):
    staff, officer = web("staff"), web("officer")
    calm = raise_concern(staff, unique_name("Calm Earlier"))
    urgent = raise_concern(staff, unique_name("Danger Later"), immediate_danger="yes", police_called="yes")
    rows = case_list(officer)
    references = list(rows)
    assert "Urgent" in rows[reference_of(officer, urgent)].flags
    assert "Urgent" not in rows[reference_of(officer, calm)].flags
    urgency = ["Urgent" in row.flags for row in rows.values()]
    assert urgency == sorted(urgency, reverse=True), "an urgent case is listed after a non-urgent one"
    assert references.index(reference_of(officer, urgent)) < references.index(reference_of(officer, calm))


# --- repeat referrals ------------------------------------------------------------------------------------------------

def test_an_earlier_concern_about_the_same_person_is_linked_and_flagged_as_a_repeat_referral(web):
    staff, staff2, officer = web("staff"), web("staff2"), web("officer")
    name = unique_name("Repeat Person")
    first = raise_concern(staff, name, date_of_birth="2006-11-30")
    # Another reporter, typing the name with different capitals and spacing.
    second = raise_concern(staff2, "  " + name.upper().replace(" ", "  ") + " ", date_of_birth="2006-11-30")
    namesake = raise_concern(staff2, name, date_of_birth="1990-01-01")

    page = case_page(officer, second)
    assert "Repeat referral" in heading(page)
    earlier = section(page, 'class="earlier"', "</ul>")
    assert f'href="/cases/{first}"' in earlier and reference_of(officer, first) in text(earlier)
    assert f'href="/cases/{namesake}"' not in earlier

    # Same name but another date of birth: a different person, not a repeat referral.
    namesake_page = case_page(officer, namesake)
    assert "Repeat referral" not in heading(namesake_page)
    assert "None found." in text(section(namesake_page, "<h2>Earlier concerns</h2>", "</p>"))


# --- protection against forged requests ---------------------------------------------------------------------------

def test_a_concern_posted_without_a_csrf_token_is_refused_and_not_recorded(web):
    staff, officer = web("staff"), web("officer")
    name = unique_name("Forged Concern")
    response = staff.post("/concerns/new", data={
        "subject.full_name": name, "subject.subject_type": "learner", "description": "Forged",
        "occurred_at": uk_local()})
    assert response.status_code == 400
    assert "The form expired or was sent from elsewhere" in text(response.get_data(as_text=True))
    assert name not in [row.about for row in case_list(officer).values()]


def test_a_decision_posted_without_a_csrf_token_is_refused_and_changes_nothing(web):
    staff, officer = web("staff"), web("officer")
    case_id = raise_concern(staff, unique_name("Forged Decision"))
    page = case_page(officer, case_id)
    response = officer.post(f"/cases/{case_id}/transition", data={
        "event": "acknowledge", "reason": "Forged acknowledgement", "version": page_version(page)})
    assert response.status_code == 400
    after = case_page(officer, case_id)
    assert "reported" in heading(after) and "Forged acknowledgement" not in chronology(after)


# --- the concern form -----------------------------------------------------------------------------------------------

def test_the_concern_form_says_call_999_and_lists_the_safeguarding_officers(app, web):
    page = text(web("staff").get("/concerns/new").get_data(as_text=True))
    assert "If anyone is in immediate danger, call 999 first." in page
    contacts = app.config["SAFEGUARDING_CONTACTS"]
    assert contacts, "the form must name at least one Safeguarding Officer"
    for contact in contacts:
        assert contact["name"] in page and contact["phone"] in page
        if contact.get("out_of_hours"):
            assert f"out of hours {contact['out_of_hours']}" in page
    # The emergency line comes before anything the reporter has to fill in.
    assert page.index("call 999") < page.index("Who is the concern about?")


def test_a_concern_with_a_missing_field_is_shown_again_with_what_was_typed(web):
    staff = web("staff")
    name = unique_name("Half Filled")
    page = staff.get("/concerns/new").get_data(as_text=True)
    response = staff.post("/concerns/new", data={
        "csrf_token": csrf_token(page), "subject.full_name": name, "subject.subject_type": "learner",
        "description": "", "occurred_at": uk_local(), "location": "Library"})
    assert response.status_code == 422
    again = response.get_data(as_text=True)
    assert "Please check the fields marked below." in text(again)
    # The page says which field and what to do (the use case's "This field is required." in the form's own words).
    assert "Enter what you saw or heard" in text(section(again, 'for="description"', "</div>"))
    assert field_value(again, "subject.full_name") == name
    assert field_value(again, "location") == "Library"


def test_immediate_danger_without_the_police_answer_is_asked_again(web):
    staff = web("staff")
    page = staff.get("/concerns/new").get_data(as_text=True)
    response = staff.post("/concerns/new", data={
        "csrf_token": csrf_token(page), "subject.full_name": unique_name("Danger Unanswered"),
        "subject.subject_type": "learner", "description": "Threatened someone", "occurred_at": uk_local(),
        "immediate_danger": "yes"})
    assert response.status_code == 422
    again = response.get_data(as_text=True)
    assert "Say whether the police have been called" in text(section(again, "Have the police been called (999)?",
                                                                     "</div>"))
    assert re.search(r'name="immediate_danger" id="immediate_danger" value="yes"\s+checked', again)
