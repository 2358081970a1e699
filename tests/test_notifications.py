"""Who hears what, and when: every trigger, through the outbox and a real SMTP server started by the tests."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from app.cases import actions
from app.cases import use_cases as cases
from app.extensions import db
from app.kernel.uow import unit_of_work
from app.models import EmailStatus, OutboxEmail, utcnow
from app.notifications import notify, outbox, preferences
from tests.conftest import EVENT_DATA, concern_payload, deliver, make_case, user


def recipients(messages, subject_part: str) -> list[str]:
    return sorted(m["To"] for m in messages if subject_part in m["Subject"])


def reference(case_id: int) -> str:
    return cases.get_case(db.session, user("lead"), case_id).case.reference


def step(case_id: int, event: str, who: str = "officer", **data) -> None:
    cases.transition(user(who), case_id, {"event": event, "reason": f"Reason for {event}", **EVENT_DATA[event], **data})


def run_reminders(today: date) -> notify.ReminderReport:
    with unit_of_work() as session:
        return notify.run_reminders(session, today)


def test_a_new_concern_reaches_every_officer_and_the_lead_at_once(inbox):
    case_id = make_case("staff")
    messages = deliver(inbox)
    ref = reference(case_id)
    assert recipients(messages, ref) == ["lead@example.org", "officer2@example.org", "officer@example.org"]
    assert all(m["Subject"] == f"New Prevent concern {ref}" and m["X-Priority"] is None for m in messages)
    assert f"/cases/{case_id}" in messages[0].get_payload()


def test_immediate_danger_marks_the_email_urgent(inbox):
    case_id = make_case("staff", immediate_danger=True, police_called=True)
    messages = deliver(inbox)
    assert recipients(messages, f"URGENT: New Prevent concern {reference(case_id)}") == [
        "lead@example.org", "officer2@example.org", "officer@example.org"]
    assert {m["X-Priority"] for m in messages} == {"1"}


def test_a_concern_about_a_colleague_reaches_only_those_who_may_read_it(inbox):
    case_id = make_case("staff", subject={"full_name": "A Colleague", "subject_type": "staff"})
    assert recipients(deliver(inbox), reference(case_id)) == ["lead@example.org"]


def test_the_reporter_hears_when_an_officer_acknowledges(inbox):
    case_id = make_case("staff2")
    deliver(inbox)
    step(case_id, "acknowledge")
    messages = deliver(inbox)
    assert recipients(messages, reference(case_id)) == ["staff2@example.org"]
    assert "acknowledged" in messages[0]["Subject"]


def test_an_action_owner_hears_when_given_it_and_once_when_it_is_overdue(inbox):
    case_id = make_case("staff", state="under_review")
    due = date.today() + timedelta(days=3)
    actions.add_action(user("officer"), case_id, {"title": "Call the tutor", "owner_id": user("officer2").id,
                                                  "due_date": due.isoformat()})
    ref = reference(case_id)
    assert recipients(deliver(inbox), f"An action for you on {ref}") == ["officer2@example.org"]

    run_reminders(due)  # due today: not overdue yet
    assert recipients(deliver(inbox), f"Overdue action on {ref}") == []
    run_reminders(due + timedelta(days=1))
    assert recipients(deliver(inbox), f"Overdue action on {ref}") == ["officer2@example.org"]
    run_reminders(due + timedelta(days=1))
    run_reminders(due + timedelta(days=2))
    assert recipients(deliver(inbox), f"Overdue action on {ref}") == []


def test_overdue_actions_go_into_the_officers_daily_digest(inbox):
    case_id = make_case("staff", state="under_review")
    actions.add_action(user("officer"), case_id, {"title": "Check records", "owner_id": user("officer").id,
                                                  "due_date": date.today().isoformat()})
    deliver(inbox)
    day = date.today() + timedelta(days=400)  # a day no other test runs the digest for
    run_reminders(day)
    digests = [m for m in deliver(inbox) if "daily digest" in m["Subject"]]
    assert sorted(m["To"] for m in digests) == ["lead@example.org", "officer2@example.org", "officer@example.org"]
    assert all(f"Overdue action on {reference(case_id)}" in m.get_payload() for m in digests)
    run_reminders(day)
    assert [m for m in deliver(inbox) if "daily digest" in m["Subject"]] == []


def test_a_stalled_case_is_flagged_in_the_digest(inbox, app):
    case_id = make_case("staff", state="under_review")
    deliver(inbox)
    day = date.today() + timedelta(days=app.config["STALLED_AFTER_DAYS"] + 401)
    run_reminders(day)
    digest = next(m for m in deliver(inbox) if m["To"] == "officer@example.org" and "daily digest" in m["Subject"])
    assert f"Stalled: {reference(case_id)}" in digest.get_payload()


def test_post_support_reviews_are_announced_14_days_before_and_on_the_day(inbox):
    case_id = make_case("staff", state="channel_support")
    # Support ended six months ago less a day (the 6-month review may be recorded today, within its grace).
    exit_date = date.today() - relativedelta(months=6) + timedelta(days=1)
    step(case_id, "exit_support", exit_date=exit_date.isoformat())
    deliver(inbox)
    ref = reference(case_id)
    team = ["lead@example.org", "officer2@example.org", "officer@example.org"]
    six_months = exit_date + relativedelta(months=6)

    run_reminders(six_months - timedelta(days=15))
    assert recipients(deliver(inbox), ref) == []
    run_reminders(six_months - timedelta(days=14))
    assert recipients(deliver(inbox), f"6-month review coming up: {ref}") == team
    run_reminders(six_months - timedelta(days=10))
    assert recipients(deliver(inbox), ref) == []
    run_reminders(six_months)
    assert recipients(deliver(inbox), f"6-month review due: {ref}") == team
    run_reminders(six_months)
    assert recipients(deliver(inbox), ref) == []

    step(case_id, "record_review", review="6_months")
    twelve_months = exit_date + relativedelta(months=12)
    run_reminders(twelve_months - timedelta(days=14))
    messages = deliver(inbox)
    assert recipients(messages, f"12-month review coming up: {ref}") == team
    assert recipients(messages, "6-month review") == []


def test_a_referral_without_police_outcome_after_10_working_days_reminds_the_referring_officer(inbox):
    case_id = make_case("staff", state="under_review")
    referred_on = date(2026, 12, 18)  # a Friday: Christmas and Boxing Day (moved to the 28th) do not count
    cases.transition(user("officer2"), case_id, {"event": "refer_to_police", "reason": "Risk of radicalisation",
                                                  "referral_date": referred_on.isoformat(), "subject_informed": "no"})
    deliver(inbox)
    tenth_working_day = notify.add_working_days(referred_on, 10)
    assert tenth_working_day == date(2027, 1, 6)
    run_reminders(tenth_working_day - timedelta(days=1))
    assert recipients(deliver(inbox), reference(case_id)) == []
    run_reminders(tenth_working_day)
    assert recipients(deliver(inbox), f"No police outcome yet for {reference(case_id)}") == ["officer2@example.org"]
    run_reminders(tenth_working_day + timedelta(days=3))
    assert recipients(deliver(inbox), reference(case_id)) == []


def test_a_digest_taker_gets_non_urgent_email_in_the_digest_and_urgent_email_at_once(inbox):
    preferences.set_daily_digest(user("officer2"), {"daily_digest": "yes"})
    try:
        calm = make_case("staff")
        urgent = make_case("staff", immediate_danger=True, police_called=False)
        messages = deliver(inbox)
        assert recipients(messages, f"New Prevent concern {reference(calm)}") == [
            "lead@example.org", "officer@example.org"]
        assert "officer2@example.org" in recipients(messages, f"URGENT: New Prevent concern {reference(urgent)}")
        run_reminders(date.today() + timedelta(days=800))
        digest = next(m for m in deliver(inbox) if m["To"] == "officer2@example.org")
        assert f"New Prevent concern {reference(calm)}" in digest.get_payload()
        held = db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.case_id == calm,
                                                               OutboxEmail.recipient_id == user("officer2").id)).one()
        assert held.status == EmailStatus.digested and held.digest_id is not None
    finally:
        preferences.set_daily_digest(user("officer2"), {"daily_digest": "no"})


def test_every_email_a_case_causes_is_in_its_chronology(inbox, api):
    case_id = make_case("staff")
    deliver(inbox)
    step(case_id, "acknowledge")
    chronology = api("officer").get(f"/api/v1/case/{case_id}/chronology").get_json()["result"]
    emails = [item for item in chronology if item["kind"] == "email"]
    assert sorted(item["data"]["recipient"] for item in emails) == ["lead", "officer", "officer2", "staff"]
    delivered = [item for item in emails if item["data"]["recipient"] != "staff"]
    assert all(item["data"]["delivery"].startswith("delivered ") for item in delivered)
    assert next(item for item in emails if item["data"]["recipient"] == "staff")["data"]["delivery"] == \
        "waiting to be sent"
    assert [item["kind"] for item in chronology][:2] == ["concern_raised", "email"]


def test_each_user_sees_what_they_receive_and_chooses_a_digest(web, inbox):
    officer_page = web("officer").get("/my-email/").get_data(as_text=True)
    assert "A new concern is raised" in officer_page and "daily digest of overdue actions" in officer_page
    staff = web("staff")
    page = staff.get("/my-email/").get_data(as_text=True)
    assert "acknowledges a concern you raised" in page and "A new concern is raised" not in page
    from tests.conftest import csrf_token
    staff.post("/my-email/", data={"csrf_token": csrf_token(page), "daily_digest": "yes"})
    try:
        assert outbox.wants_digest(db.session, user("staff"))
    finally:
        preferences.set_daily_digest(user("staff"), {"daily_digest": "no"})


MARKER = "Zq9MARKERx"


def test_no_email_carries_a_name_a_date_of_birth_free_text_an_indicator_or_a_type(inbox, api):
    """A unique marker in every free-text and name field of a case, and every email it causes: none shows it."""
    reference_data = api("staff").get("/api/v1/reference/indicators").get_json()["result"]
    types = api("staff").get("/api/v1/reference/concern_types").get_json()["result"]
    indicator, concern_type = reference_data[4], types[2]
    payload = concern_payload(
        subject={"full_name": f"Name {MARKER}", "subject_type": "learner", "date_of_birth": "2009-07-13",
                 "programme": f"Programme {MARKER}", "learner_ref": f"L{MARKER}"},
        description=f"Description {MARKER}", location=f"Location {MARKER}", immediate_danger=True,
        police_called=True, police_incident_number=f"I{MARKER}", action_taken=f"Action {MARKER}",
        indicator_ids=[indicator["id"]], concern_type_id=concern_type["id"])
    case_id = cases.raise_concern(user("staff"), payload).id
    cases.add_note(user("officer"), case_id, {"kind": "information_gathered", "text": f"Note {MARKER}",
                                              "source": f"Source {MARKER}"})
    for event, data in [
        ("acknowledge", {}),
        ("refer_to_police", {"police_reference": f"P{MARKER}", "referral_date": "2026-11-02"}),
        ("record_gateway_outcome", {"feedback": f"Feedback {MARKER}"}),
        ("schedule_panel", {"local_authority": f"LA {MARKER}", "attendees": f"Attendees {MARKER}"}),
        ("record_panel_decision", {"vaf_summary": f"VAF {MARKER}", "intervention_provider": f"IP {MARKER}",
                                   "consent_by": "parent_carer"}),  # under 18: a parent's or carer's consent
        ("exit_support", {"exit_reason": f"Exit {MARKER}", "exit_date": "2026-11-03"}),
    ]:
        cases.transition(user("officer"), case_id, {"event": event, "reason": f"Reason {MARKER}",
                                                    **EVENT_DATA[event], **data})
    action = actions.add_action(user("officer"), case_id, {"title": f"Title {MARKER}", "owner_id": user("officer").id,
                                                           "due_date": "2026-11-04"})
    actions.update_action(user("officer"), action.id, {"status": "done", "completion_note": f"Done {MARKER}"})
    actions.add_action(user("officer"), case_id, {"title": f"Late {MARKER}", "owner_id": user("officer2").id,
                                                  "due_date": "2026-11-05"})
    for day in ("2027-04-19", "2027-05-03", "2027-10-20", "2027-11-03"):
        run_reminders(date.fromisoformat(day))
    messages = deliver(inbox)
    kinds = ("new prevent concern", "acknowledged", "action for you", "overdue action", "review", "daily digest")
    assert {kind for kind in kinds for m in messages if kind in m["Subject"].lower()} == set(kinds)
    forbidden = [MARKER, "2009-07-13", "13 Jul 2009", indicator["label"], concern_type["label"]]
    for message in messages:
        text = message.as_string()
        assert not [word for word in forbidden if word in text], message["Subject"]


def test_a_stalled_case_is_flagged_on_the_list_and_the_page(api, web, app):
    from app.models import CaseEntry
    case_id = make_case("staff", state="under_review")
    officer = api("officer")
    listed = officer.get(f"/api/v1/case/?q=(filters:!((col:search,value:'{reference(case_id)}')))").get_json()
    assert listed["result"][0]["stalled"] is False
    # Time passes: the chronology's entries are as old as STALLED_AFTER_DAYS and a day (entries are not audited).
    old = utcnow() - timedelta(days=app.config["STALLED_AFTER_DAYS"] + 1)
    with unit_of_work() as session:
        session.execute(sa.update(CaseEntry).where(CaseEntry.case_id == case_id).values(at=old))
    stalled = officer.get("/api/v1/case/?q=(filters:!((col:stalled,value:true)),page_size:100)").get_json()
    assert case_id in stalled["ids"]
    assert 'title="No entry in the chronology' in web("officer").get(f"/cases/{case_id}").get_data(as_text=True)


def test_links_in_emails_point_at_public_url(app, inbox, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://prevent.example.org/")
    case_id = make_case("staff")
    assert f"https://prevent.example.org/cases/{case_id}" in deliver(inbox)[0].get_payload()


@pytest.mark.parametrize("environment,expected", [
    ({}, "http://127.0.0.1:9123"),  # `make run PORT=9123`: links point where the app is served
    ({"PUBLIC_URL": "https://prevent.example.org"}, "https://prevent.example.org"),  # set: kept as it is
])
def test_make_run_sets_public_url_from_the_port_it_serves_unless_given(environment, expected):
    import os
    import subprocess
    env = {key: value for key, value in os.environ.items() if key != "PUBLIC_URL"} | environment
    shown = subprocess.run(["make", "-s", "--eval", "show-public-url: ; @echo $$PUBLIC_URL", "show-public-url",
                            "PORT=9123"], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == expected
