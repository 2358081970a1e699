"""The pathway as the Channel guidance has it (issue 13, points 3, 4, 5 and the consent step's words of 10): a
police-led case assessed again and escalated to Channel, onward routes after a panel that does not lead to support,
who answered for consent, post-exit reviews on time with the grace the Prevent Lead sets; through the API and the
pages, per role."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from app.cases import pathway_facts
from app.cases import use_cases as cases
from app.extensions import db
from app.governance import settings
from app.kernel import settings as provider_settings
from app.kernel import workflow
from app.kernel.errors import Forbidden, InvalidData
from app.models import AuditEvent, Case, ProviderSetting
from tests.conftest import csrf_token, make_case, user
from tests.test_pages import case_page, chronology, event_form, post_event, take_event, text

TODAY = date.today()


def transition(client, case_id: int, event: str, **data):
    return client.post(f"/api/v1/case/{case_id}/transition", json={"event": event, "reason": f"Why {event}", **data})


def case_json(client, case_id: int) -> dict:
    return client.get(f"/api/v1/case/{case_id}").get_json()["result"]


def said(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- 3. escalation from police-led ------------------------------------------------------------------------------

def test_a_police_led_case_assessed_again_goes_to_channel_and_keeps_both_assessments(api, web):
    case_id = make_case("staff", "police_led")
    first = case_json(api("officer"), case_id)
    assert first["status"] == "police_led" and "record_gateway_outcome" in first["allowed_events"]
    escalated = transition(api("officer"), case_id, "record_gateway_outcome", outcome="channel",
                           decided_on=(TODAY - timedelta(days=1)).isoformat(), feedback="New incidents")
    assert escalated.status_code == 200, escalated.get_json()
    assert escalated.get_json()["result"]["status"] == "channel_screening"

    items = api("officer").get(f"/api/v1/case/{case_id}/chronology").get_json()["result"]
    assessments = [(i["from_status"], i["to_status"], i["data"]["outcome"], i["data"]["decided_on"]) for i in items
                   if i["kind"] == "transition" and i["data"].get("decided_on")]
    assert assessments == [("referred_to_police", "police_led", "police_led", TODAY.isoformat()),
                           ("police_led", "channel_screening", "channel",
                            (TODAY - timedelta(days=1)).isoformat())]
    shown = chronology(case_page(web("officer"), case_id))
    assert "Record the police gateway outcome" in shown and "Record a further police assessment" in shown
    assert f"decided on: {TODAY.isoformat()}" in shown
    assert f"decided on: {(TODAY - timedelta(days=1)).isoformat()}" in shown

    # And on to a panel, as any case screened for Channel.
    scheduled = transition(api("officer"), case_id, "schedule_panel", panel_date=TODAY.isoformat(),
                           local_authority="Test Council")
    assert scheduled.status_code == 200 and scheduled.get_json()["result"]["status"] == "channel_panel"


def test_a_further_assessment_may_keep_the_case_police_led_or_close_it(api):
    case_id = make_case("staff", "police_led")
    again = transition(api("lead"), case_id, "record_gateway_outcome", outcome="police_led",
                       decided_on=TODAY.isoformat())
    assert again.get_json()["result"]["status"] == "police_led"
    closed = transition(api("lead"), case_id, "record_gateway_outcome", outcome="police_no_further_action",
                        decided_on=TODAY.isoformat())
    assert closed.get_json()["result"]["status"] == "closed"
    assert case_json(api("lead"), case_id)["closure_outcome"] == "police_no_further_action"


@pytest.mark.parametrize("username", ["staff", "director", "governance", "admin"])
def test_only_officers_and_the_lead_record_a_further_assessment(api, username):
    case_id = make_case("staff", "police_led")
    refused = transition(api(username), case_id, "record_gateway_outcome", outcome="channel",
                         decided_on=TODAY.isoformat())
    assert refused.status_code in (403, 404)
    assert case_json(api("officer"), case_id)["status"] == "police_led"


# --- 4. onward routes and who answered for consent ------------------------------------------------------------

@pytest.mark.parametrize("decision", [{"decision": "not_adopted"},
                                      {"decision": "adopted", "consent": "declined", "consent_by": "subject"}])
def test_no_support_without_an_onward_route_is_refused_and_changes_nothing(api, decision):
    case_id = make_case("staff", "channel_panel")
    before = case_json(api("officer"), case_id)
    refused = transition(api("officer"), case_id, "record_panel_decision", **decision)
    assert refused.status_code == 422
    assert list(refused.get_json()["message"]) == ["onward"]
    assert "onward route" in refused.get_json()["message"]["onward"][0]
    after = case_json(api("officer"), case_id)
    assert (after["status"], after["version"], after["onward"]) == ("channel_panel", before["version"], None)


@pytest.mark.parametrize("decision, status, outcome", [
    ({"decision": "not_adopted", "onward": "police_led"}, "police_led", None),
    ({"decision": "adopted", "consent": "declined", "consent_by": "subject", "onward": "police_led"},
     "police_led", None),
    ({"decision": "not_adopted", "onward": "other_support"}, "closed", "onward_support"),
    ({"decision": "adopted", "consent": "declined", "consent_by": "subject", "onward": "other_support"},
     "closed", "onward_support"),
    ({"decision": "not_adopted", "onward": "no_further_action"}, "closed", "not_adopted"),
    ({"decision": "adopted", "consent": "declined", "consent_by": "subject", "onward": "no_further_action"},
     "closed", "consent_declined"),
])
def test_the_onward_route_decides_where_the_case_goes(api, decision, status, outcome):
    case_id = make_case("staff", "channel_panel")
    response = transition(api("officer"), case_id, "record_panel_decision", **decision)
    assert response.status_code == 200, response.get_json()
    result = case_json(api("officer"), case_id)
    assert (result["status"], result["closure_outcome"], result["onward"]) == (status, outcome, decision["onward"])
    assert result["consent_by"] == decision.get("consent_by")


def test_a_police_led_case_after_the_panel_may_come_back_to_channel(api):
    case_id = make_case("staff", "channel_panel")
    transition(api("officer"), case_id, "record_panel_decision", decision="not_adopted", onward="police_led")
    back = transition(api("officer"), case_id, "record_gateway_outcome", outcome="channel",
                      decided_on=TODAY.isoformat())
    assert back.get_json()["result"]["status"] == "channel_screening"


def test_consent_names_who_answered_and_under_18_it_is_a_parent_or_carer(api):
    seventeen = (TODAY - relativedelta(years=17)).isoformat()
    case_id = make_case("staff", "channel_panel", subject={"full_name": "Young Person", "subject_type": "learner",
                                                           "date_of_birth": seventeen})
    officer = api("officer")
    missing = transition(officer, case_id, "record_panel_decision", decision="adopted", consent="given")
    assert missing.status_code == 422 and list(missing.get_json()["message"]) == ["consent_by"]
    unknown = transition(officer, case_id, "record_panel_decision", decision="adopted", consent="given",
                         consent_by="friend")
    assert unknown.status_code == 422 and list(unknown.get_json()["message"]) == ["consent_by"]
    own = transition(officer, case_id, "record_panel_decision", decision="adopted", consent="given",
                     consent_by="subject")
    assert own.status_code == 422
    assert own.get_json()["message"] == {"consent_by": [
        f"The person was under 18 on {said(TODAY)}, the day of the decision: consent is given or declined by a "
        "parent or carer."]}
    assert case_json(officer, case_id)["status"] == "channel_panel"
    parent = transition(officer, case_id, "record_panel_decision", decision="adopted", consent="given",
                        consent_by="parent_carer")
    assert parent.status_code == 200
    assert case_json(officer, case_id)["consent_by"] == "parent_carer"


def test_the_reporter_sees_neither_the_onward_route_nor_who_consented(api):
    case_id = make_case("staff", "channel_panel")
    transition(api("officer"), case_id, "record_panel_decision", decision="not_adopted", onward="police_led")
    seen = case_json(api("staff"), case_id)
    assert seen["status"] == "under_review" and "onward" not in seen and "consent_by" not in seen


def test_the_consent_step_on_the_case_page_says_channel_is_not_a_criminal_process(web):
    case_id = make_case("staff", "channel_panel")
    form = event_form(case_page(web("officer"), case_id), "record_panel_decision")
    assert "A referral to Channel is not a criminal process." in text(form)
    assert "A parent or carer" in text(form) and "Police-led case management" in text(form)


def test_the_panel_form_refused_for_a_missing_onward_route_keeps_what_was_typed(web):
    case_id = make_case("staff", "channel_panel")
    response = post_event(web("officer"), case_id, "record_panel_decision", "Panel did not adopt: low risk",
                          decision="not_adopted")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose the onward route: the case was not adopted, or consent was declined" in text(page)
    assert "Panel did not adopt: low risk" in page
    page = take_event(web("officer"), case_id, "record_panel_decision", "Panel did not adopt: support elsewhere",
                      decision="not_adopted", onward="other_support")
    assert "Closed: onward to other support" in text(page)


# --- 5. post-exit reviews on time -------------------------------------------------------------------------------

def ended_support(exit_date: date) -> int:
    case_id = make_case("staff", "channel_support")
    cases.transition(user("officer"), case_id, {"event": "exit_support", "reason": "Plan completed",
                                                "exit_date": exit_date.isoformat(), "exit_reason": "Plan completed"})
    return case_id


def test_a_six_month_review_right_after_support_ends_is_refused_naming_the_first_day(api):
    case_id = ended_support(TODAY)
    refused = transition(api("officer"), case_id, "record_review", review="6_months", outcome_note="Early")
    assert refused.status_code == 422
    first = TODAY + relativedelta(months=6) - timedelta(days=14)
    assert refused.get_json()["message"] == {"review": [f"The 6-month review can be recorded from {said(first)}."]}
    assert case_json(api("officer"), case_id)["status"] == "post_exit_review"


def test_with_support_ended_13_months_ago_the_two_reviews_close_the_case(api):
    case_id = ended_support(TODAY - relativedelta(months=13))
    officer = api("officer")
    twelve_first = transition(officer, case_id, "record_review", review="12_months", outcome_note="Skipping")
    assert twelve_first.status_code == 422
    assert twelve_first.get_json()["message"] == {"review": [
        "The 12-month review comes after the 6-month review: record the 6-month review first."]}
    six = transition(officer, case_id, "record_review", review="6_months", outcome_note="Settled")
    assert six.status_code == 200 and six.get_json()["result"]["status"] == "post_exit_review"
    twelve = transition(officer, case_id, "record_review", review="12_months", outcome_note="Still settled")
    assert twelve.status_code == 200 and twelve.get_json()["result"]["status"] == "closed"
    assert case_json(officer, case_id)["closure_outcome"] == "support_completed"


def test_the_twelve_month_review_waits_for_its_time_after_the_six_month_one(api):
    exit_date = TODAY - relativedelta(months=7)
    case_id = ended_support(exit_date)
    officer = api("officer")
    assert transition(officer, case_id, "record_review", review="6_months", outcome_note="Fine").status_code == 200
    early = transition(officer, case_id, "record_review", review="12_months", outcome_note="Early")
    first = exit_date + relativedelta(months=12) - timedelta(days=14)
    assert early.status_code == 422
    assert early.get_json()["message"] == {"review": [f"The 12-month review can be recorded from {said(first)}."]}


def test_the_review_page_form_says_the_first_allowed_date(web):
    case_id = ended_support(TODAY)
    response = post_event(web("officer"), case_id, "record_review", "Looked at it early", review="6_months",
                          outcome_note="Too soon")
    assert response.status_code == 422
    first = TODAY + relativedelta(months=6) - timedelta(days=14)
    assert f"The 6-month review can be recorded from {said(first)}." in text(response.get_data(as_text=True))


# --- the review grace: a setting the Prevent Lead keeps -------------------------------------------------------

def grace() -> int:
    return provider_settings.read(db.session, provider_settings.REVIEW_GRACE_DAYS)


def settings_form(client) -> str:
    response = client.get("/settings/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_grace_defaults_to_14_days_and_the_lead_changes_it_on_its_page(web, api):
    assert grace() == 14
    lead = web("lead")
    page = settings_form(lead)
    assert "<h1>Pathway settings</h1>" in page and 'value="14"' in page
    saved = lead.post("/settings/", data={"csrf_token": csrf_token(page), "review_grace_days": "30"})
    assert saved.status_code == 302
    assert grace() == 30
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "change_setting")
                               .order_by(AuditEvent.seq.desc())).first()
    assert event.actor == "lead" and event.changes["value"] == {"old": None, "new": "30"}
    assert 'value="30"' in settings_form(lead)

    # The rule follows: with 30 days' grace, the 6-month review opens 30 days early.
    exit_date = TODAY - relativedelta(months=6) + timedelta(days=20)
    case_id = ended_support(exit_date)
    assert transition(api("officer"), case_id, "record_review", review="6_months",
                      outcome_note="Within the grace").status_code == 200

    # Sent again unchanged, nothing is written.
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    lead.post("/settings/", data={"csrf_token": csrf_token(page), "review_grace_days": "30"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    lead.post("/settings/", data={"csrf_token": csrf_token(page), "review_grace_days": "0"})
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "change_setting")
                               .order_by(AuditEvent.seq.desc())).first()
    assert event.changes["value"] == {"old": "30", "new": "0"} and grace() == 0


@pytest.mark.parametrize("typed, message", [
    ("", "Enter the review grace, in days."),
    ("two weeks", "The review grace must be a whole number of days, like 14."),
    ("7.5", "The review grace must be a whole number of days, like 14."),
    ("61", "The review grace must be from 0 to 60 days."),
    ("-1", "The review grace must be from 0 to 60 days."),
])
def test_a_grace_that_is_not_a_whole_number_of_0_to_60_days_is_refused_and_kept_as_typed(web, typed, message):
    lead = web("lead")
    page = settings_form(lead)
    refused = lead.post("/settings/", data={"csrf_token": csrf_token(page), "review_grace_days": typed})
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert message in text(shown) and "There is a problem" in shown
    assert f'value="{typed}"' in shown
    assert grace() == 14 and db.session.scalar(sa.select(sa.func.count()).select_from(ProviderSetting)) == 0


@pytest.mark.parametrize("username", ["staff", "officer", "director", "governance", "admin"])
def test_only_the_lead_sees_or_changes_the_settings(web, username):
    client = web(username)
    assert client.get("/settings/").status_code == 403
    token = csrf_token(client.get("/concerns/new").get_data(as_text=True))
    refused = client.post("/settings/", data={"csrf_token": token, "review_grace_days": "3"})
    assert refused.status_code == 403
    assert grace() == 14


def test_the_settings_use_case_refuses_unknown_settings_and_other_roles(ctx):
    with pytest.raises(InvalidData) as exc:
        settings.change(user("lead"), {"colour": "blue"})
    assert exc.value.errors == {"colour": ["There is no such setting."]}
    with pytest.raises(Forbidden):
        settings.change(user("officer"), {"review_grace_days": "3"})
    with pytest.raises(Forbidden):
        settings.current(db.session, user("admin"))
    assert grace() == 14


def test_the_facts_count_reviews_only_since_support_last_ended(ctx):
    case_id = ended_support(TODAY - relativedelta(months=13))
    cases.transition(user("officer"), case_id, {"event": "record_review", "reason": "r", "review": "6_months",
                                                "outcome_note": "n"})
    case = db.session.get(Case, case_id)
    facts = pathway_facts.facts_for(db.session, case)
    assert facts.reviews_done == frozenset({"6_months"}) and facts.review_grace_days == 14
    assert isinstance(facts, workflow.Facts)
