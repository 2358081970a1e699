"""Beside the pathway (issue 13, points 2 and 6): parallel safeguarding referrals (a copy to the MASH, social care,
the LADO, HR...) and the referrer's safety (policy section 11). Officers and the Lead record both, through the case
page and the API, on any open case; the person who raised the concern never sees either; other roles get 403 and
anyone who may not work on the case 404. Which role reaches which route is also in tests/test_access.py's MATRIX."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kernel.ages import is_under_18
from app.models import AccessLogEntry, AuditEvent, Case, CaseEntry, ParallelReferral, ReferrerSafety
from tests.conftest import csrf_token, make_case
from tests.test_pages import case_page, section, text

TODAY = date.today()
CHILD_DOB = (TODAY - timedelta(days=365 * 15)).isoformat()
ADULT_DOB = "1990-03-04"


def marker() -> str:
    return uuid.uuid4().hex[:10]


def a_case(state: str = "under_review", *, dob: str = CHILD_DOB, subject_type: str = "learner") -> int:
    """A case that "staff" raised, about someone with this date of birth, moved by the officer to `state`."""
    return make_case("staff", state, subject={"full_name": f"Person {marker()}", "subject_type": subject_type,
                                              "date_of_birth": dob})


def referral(**overrides) -> dict:
    return {"kind": "mash", "referred_on": TODAY.isoformat(), "reference": "MASH-123",
            "note": f"Sent the referral form to the MASH {marker()}", **overrides}


def count(model) -> int:
    found = db.session.scalar(sa.select(sa.func.count()).select_from(model))
    db.session.rollback()
    return found


def events(case_id: int, action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).all()


def post_form(client, case_id: int, path: str, data: dict):
    token = csrf_token(case_page(client, case_id))
    return client.post(f"/cases/{case_id}/{path}", data={"csrf_token": token, **data})


def boxes(day: date) -> dict[str, str]:
    return {"referred_on-day": str(day.day), "referred_on-month": str(day.month), "referred_on-year": str(day.year)}


# --- parallel referrals through the API -------------------------------------------------------------------------

def test_an_officer_records_a_parallel_referral_and_it_is_listed_audited_and_in_the_chronology(api, ctx):
    case_id = a_case()
    officer = api("officer")
    body = referral(reference="MASH-4471")
    answer = officer.post(f"/api/v1/case/{case_id}/parallel_referrals", json=body)
    assert answer.status_code == 201, answer.get_json()
    result = answer.get_json()["result"]
    assert answer.get_json()["id"] == result["id"]
    assert {k: result[k] for k in ("kind", "referred_on", "reference", "note", "recorded_by")} == {
        "kind": "mash", "referred_on": TODAY.isoformat(), "reference": "MASH-4471", "note": body["note"],
        "recorded_by": "officer"}

    listed = officer.get(f"/api/v1/case/{case_id}/parallel_referrals").get_json()
    assert listed["count"] == 1 and listed["result"][0]["id"] == result["id"]
    [entry] = [e for e in officer.get(f"/api/v1/case/{case_id}/chronology").get_json()["result"]
               if e["kind"] == "parallel_referral"]
    assert entry["summary"] == "Copy sent to the MASH (children's safeguarding front door), ref MASH-4471"
    assert entry["actor"] == "officer"
    [event] = events(case_id, "record_parallel_referral")
    assert event.actor == "officer" and event.reason == body["note"]
    assert event.changes["kind"] == {"old": None, "new": "mash"}
    # Reading the list is an opening of the case, in the access log like any other.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.case_id == case_id, AccessLogEntry.what == "parallel_referrals")) == 1


@pytest.mark.parametrize("role, status", [("staff", 404), ("staff2", 404), ("officer", 201), ("lead", 201),
                                          ("director", 403), ("governance", 403), ("admin", 403)])
def test_who_may_record_and_list_parallel_referrals(api, ctx, role, status):
    """Officers and the Lead; staff, the reporter too, get 404 (their own concern shows them none of this); roles
    without case access 403. A refusal changes nothing and says nothing of the case."""
    case_id = a_case()
    client = api(role)
    before = count(ParallelReferral), count(AuditEvent)
    body = referral()
    answer = client.post(f"/api/v1/case/{case_id}/parallel_referrals", json=body)
    assert answer.status_code == status, answer.get_json()
    listed = client.get(f"/api/v1/case/{case_id}/parallel_referrals")
    assert listed.status_code == (200 if status == 201 else status)
    if status != 201:
        assert (count(ParallelReferral), count(AuditEvent)) == before
        assert body["note"] not in answer.get_data(as_text=True) + listed.get_data(as_text=True)
    else:
        assert listed.get_json()["result"][0]["note"] == body["note"]


def test_a_concern_about_a_colleague_is_recorded_on_only_by_those_granted_it(api, ctx):
    # A concern about a colleague is restricted: the Lead is granted it, officers are not.
    case_id = a_case("reported", subject_type="staff", dob=ADULT_DOB)
    assert api("officer").post(f"/api/v1/case/{case_id}/parallel_referrals",
                               json=referral(kind="hr")).status_code == 404
    answer = api("lead").post(f"/api/v1/case/{case_id}/parallel_referrals",
                              json=referral(kind="lado", reference="LADO-9"))
    assert answer.status_code == 201
    assert answer.get_json()["result"]["summary"] == \
        "Referred to the LADO (Local Authority Designated Officer), ref LADO-9"


@pytest.mark.parametrize("state", ["reported", "referred_to_police", "police_led", "channel_support"])
def test_a_parallel_referral_can_be_recorded_at_any_open_state(api, ctx, state):
    case_id = a_case(state)
    assert api("officer").post(f"/api/v1/case/{case_id}/parallel_referrals", json=referral()).status_code == 201


def test_a_closed_case_takes_no_parallel_referral_and_no_referrer_safety(api, ctx):
    case_id = a_case("closed")
    before = count(ParallelReferral), count(ReferrerSafety), count(AuditEvent)
    answer = api("officer").post(f"/api/v1/case/{case_id}/parallel_referrals", json=referral())
    assert answer.status_code == 409
    assert answer.get_json() == {"message": "The case is closed: reopen it before recording anything more on it.",
                                 "status": "closed"}
    safety = api("lead").put(f"/api/v1/case/{case_id}/referrer_safety",
                             json={"risk": "concern", "police_informed": False, "measures": "Moved desks"})
    assert safety.status_code == 409
    assert (count(ParallelReferral), count(ReferrerSafety), count(AuditEvent)) == before


@pytest.mark.parametrize("change, errors", [
    ({"note": ""}, {"note": ["This field is required."]}),
    ({"note": None, "kind": None}, {"note": ["This field is required."], "kind": ["This field is required."]}),
    ({"referred_on": (TODAY + timedelta(days=2)).isoformat()}, {"referred_on": ["This cannot be in the future."]}),
    ({"referred_on": "next week"}, {"referred_on": ["Enter a date as YYYY-MM-DD."]}),
    ({"kind": "police"}, {"kind": ["Choose one of: mash, childrens_social_care, adult_social_care, lado, hr, other."]}),
    ({"reference": "R" * 65}, {"reference": ["Keep this under 64 characters."]}),
])
def test_a_malformed_parallel_referral_is_refused_plainly_and_changes_nothing(api, ctx, change, errors):
    case_id = a_case()
    before = count(ParallelReferral), count(CaseEntry), count(AuditEvent)
    answer = api("officer").post(f"/api/v1/case/{case_id}/parallel_referrals", json=referral(**change))
    assert answer.status_code == 422
    assert answer.get_json()["message"] == errors
    assert (count(ParallelReferral), count(CaseEntry), count(AuditEvent)) == before


# --- parallel referrals on the case page ------------------------------------------------------------------------

def test_an_officer_records_one_through_the_page_and_sees_it_in_the_section(web, ctx):
    case_id = a_case()
    officer = web("officer")
    note = f"Emailed the MASH {marker()}"
    response = post_form(officer, case_id, "parallel-referrals", {
        "kind": "mash", **boxes(TODAY - timedelta(days=1)), "reference": "M-77", "note": note})
    assert response.status_code == 302
    assert response.location.endswith(f"/cases/{case_id}#parallel-referrals")
    page = case_page(officer, case_id)
    part = text(section(page, 'id="parallel-referrals"', 'id="referrer-safety"'))
    assert "Parallel referral recorded: Copy sent to the MASH (children's safeguarding front door), ref M-77." in part
    assert "Copy sent to the MASH (children's safeguarding front door), ref M-77" in part
    assert f"sent {(TODAY - timedelta(days=1)).strftime('%-d %b %Y')}" in part and note in part
    assert "Copy sent to the MASH (children's safeguarding front door), ref M-77" in \
        text(section(page, 'id="chronology"', "</ol>"))


def test_a_refused_page_form_says_what_to_fix_and_keeps_what_was_typed(web, ctx):
    case_id = a_case()
    officer = web("officer")
    tomorrow = TODAY + timedelta(days=1)
    response = post_form(officer, case_id, "parallel-referrals", {
        "kind": "childrens_social_care", **boxes(tomorrow), "reference": "CSC-5", "note": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = text(section(page, 'class="error-summary"', "</ul>"))
    assert "The date it was sent must be today or in the past" in summary
    assert "Enter a note: what was sent, to whom, and why" in summary
    form = section(page, 'id="add-parallel-referral"', "</form>")
    assert 'value="CSC-5"' in form and f'value="{tomorrow.year}"' in form
    assert re.search(r'value="childrens_social_care"\s+checked', form)
    assert not db.session.scalars(sa.select(ParallelReferral).where(ParallelReferral.case_id == case_id)).all()


def test_the_page_form_offers_the_kinds_in_plain_words_and_points_the_old_question_to_the_section(web, api, ctx):
    case_id = a_case()
    officer = web("officer")
    page = case_page(officer, case_id)
    form = text(section(page, 'id="add-parallel-referral"', "</form>"))
    for words in ("MASH (the children's safeguarding front door)", "Children's social care", "Adult social care",
                  "LADO (the Local Authority Designated Officer", "HR manager", "When was it sent?", "Day", "Month",
                  "Year", "Their reference", "Note"):
        assert words in form
    # The referral's old yes/no question on a parallel referral points to the section where each one is recorded,
    # in the referral's form and, once answered, beside the answer.
    assert 'href="#parallel-referrals"' in section(page, 'id="event-refer_to_police"', "</form>")
    assert api("officer").post(f"/api/v1/case/{case_id}/transition", json={
        "event": "refer_to_police", "reason": "Meets the threshold", "referral_date": TODAY.isoformat(),
        "subject_informed": False, "parallel_safeguarding_referral": True}).status_code == 200
    panel = section(case_page(officer, case_id), "Referral and Channel", "</div>\n      </div>")
    assert "Parallel safeguarding referral" in panel and 'href="#parallel-referrals"' in panel


def test_staff_see_hr_and_the_lado_first_on_a_concern_about_a_colleague(web, ctx):
    colleague = a_case("reported", subject_type="staff", dob=ADULT_DOB)
    page = case_page(web("lead"), colleague)
    form = section(page, 'id="add-parallel-referral"', "</form>")
    assert re.findall(r'name="kind" value="(\w+)"', form)[:2] == ["hr", "lado"]
    explained = text(section(page, 'id="colleague-routes"', "</div>"))
    assert "Appendix 1" in explained and "HR manager" in explained and "LADO" in explained and "Part 4" in explained

    learner = case_page(web("officer"), a_case())
    assert re.findall(r'name="kind" value="(\w+)"', learner)[0] == "mash"
    assert 'id="colleague-routes"' not in learner


def test_the_mash_reminder_shows_for_someone_under_18_until_a_mash_copy_is_recorded(web, api, ctx):
    child = a_case(dob=CHILD_DOB)
    officer = web("officer")
    reminder = text(section(case_page(officer, child), 'id="mash-reminder"', "</div>"))
    assert "Send a copy to the MASH" in reminder
    # Another route is not the MASH copy: the reminder stays.
    api("officer").post(f"/api/v1/case/{child}/parallel_referrals", json=referral(kind="childrens_social_care"))
    assert 'id="mash-reminder"' in case_page(officer, child)
    post_form(officer, child, "parallel-referrals", {"kind": "mash", **boxes(TODAY), "note": "Sent to the MASH"})
    assert 'id="mash-reminder"' not in case_page(officer, child)


def test_no_mash_reminder_for_an_adult_or_when_the_date_of_birth_is_unknown(web, ctx):
    officer = web("officer")
    assert 'id="mash-reminder"' not in case_page(officer, a_case(dob=ADULT_DOB))
    no_dob = make_case("staff", "under_review", subject={"full_name": f"Person {marker()}", "subject_type": "learner"})
    assert 'id="mash-reminder"' not in case_page(officer, no_dob)


def test_under_18_is_judged_on_todays_date():
    today = date(2026, 6, 15)
    assert is_under_18(date(2008, 6, 16), today)  # 18 tomorrow
    assert not is_under_18(date(2008, 6, 15), today)  # 18 today
    assert not is_under_18(None, today)


@pytest.mark.parametrize("role, status", [("staff", 404), ("officer", 302), ("lead", 302), ("director", 403),
                                          ("governance", 403), ("admin", 403)])
def test_who_may_use_the_page_forms(web, ctx, role, status):
    case_id = a_case()
    client = web(role)
    token = csrf_token(client.get("/concerns/new").get_data(as_text=True))
    before = count(ParallelReferral), count(ReferrerSafety)
    first = client.post(f"/cases/{case_id}/parallel-referrals",
                        data={"csrf_token": token, "kind": "mash", **boxes(TODAY), "note": "Sent"})
    second = client.post(f"/cases/{case_id}/referrer-safety",
                         data={"csrf_token": token, "risk": "concern", "police_informed": "no", "measures": "Escort"})
    assert (first.status_code, second.status_code) == (status, status)
    assert ((count(ParallelReferral), count(ReferrerSafety)) != before) == (status == 302)


# --- referrer safety --------------------------------------------------------------------------------------------

def test_referrer_safety_is_stored_audited_with_old_and_new_values_and_told_in_the_chronology(api, ctx):
    case_id = a_case()
    officer = api("officer")
    answer = officer.put(f"/api/v1/case/{case_id}/referrer_safety",
                         json={"risk": "threat_received", "police_informed": True, "measures": "Escorted to the bus"})
    assert answer.status_code == 200, answer.get_json()
    assert {k: answer.get_json()["result"][k] for k in ("risk", "police_informed", "measures", "updated_by")} == {
        "risk": "threat_received", "police_informed": True, "measures": "Escorted to the bus", "updated_by": "officer"}
    again = api("lead").put(f"/api/v1/case/{case_id}/referrer_safety", json={"risk": "none", "police_informed": True})
    assert again.status_code == 200 and again.get_json()["result"]["risk"] == "none"
    assert officer.get(f"/api/v1/case/{case_id}/referrer_safety").get_json()["result"]["risk"] == "none"

    first, second = events(case_id, "referrer_safety")
    assert first.actor == "officer" and first.changes["risk"] == {"old": None, "new": "threat_received"}
    assert second.actor == "lead" and second.changes["risk"] == {"old": "threat_received", "new": "none"}
    assert second.changes["measures"] == {"old": "Escorted to the bus", "new": None}
    told = [e["summary"] for e in officer.get(f"/api/v1/case/{case_id}/chronology").get_json()["result"]
            if e["kind"] == "referrer_safety"]
    assert told == ["Referrer safety: a threat has been received; police informed",
                    "Referrer safety: no known risk; police informed"]


@pytest.mark.parametrize("body, errors", [
    ({"risk": "concern", "police_informed": False}, {"measures": ["This field is required."]}),
    ({"risk": "danger", "police_informed": False, "measures": "x"},
     {"risk": ["Choose one of: none, concern, threat_received."]}),
    ({"risk": "none"}, {"police_informed": ["This field is required."]}),
    ({"police_informed": "perhaps"}, {"risk": ["This field is required."],
                                      "police_informed": ["Answer yes or no."]}),
])
def test_a_malformed_referrer_safety_is_refused_plainly_and_changes_nothing(api, ctx, body, errors):
    case_id = a_case()
    before = count(ReferrerSafety), count(AuditEvent)
    answer = api("officer").put(f"/api/v1/case/{case_id}/referrer_safety", json=body)
    assert answer.status_code == 422
    assert answer.get_json()["message"] == errors
    assert (count(ReferrerSafety), count(AuditEvent)) == before


@pytest.mark.parametrize("role, status", [("staff", 404), ("staff2", 404), ("officer", 200), ("lead", 200),
                                          ("director", 403), ("governance", 403), ("admin", 403)])
def test_who_may_record_and_read_referrer_safety(api, ctx, role, status):
    case_id = a_case()
    client = api(role)
    before = count(ReferrerSafety), count(AuditEvent)
    measures = f"Moved to another site {marker()}"
    answer = client.put(f"/api/v1/case/{case_id}/referrer_safety",
                        json={"risk": "concern", "police_informed": False, "measures": measures})
    assert answer.status_code == status, answer.get_json()
    read = client.get(f"/api/v1/case/{case_id}/referrer_safety")
    assert read.status_code == status
    if status != 200:
        assert (count(ReferrerSafety), count(AuditEvent)) == before
        assert measures not in answer.get_data(as_text=True) + read.get_data(as_text=True)


def test_a_referrer_at_risk_shows_on_the_leads_oversight_until_set_back_to_none(web, ctx):
    case_id = a_case()
    officer, lead = web("officer"), web("lead")
    response = post_form(officer, case_id, "referrer-safety",
                         {"risk": "threat_received", "police_informed": "yes", "measures": "Escorted off site"})
    assert response.status_code == 302 and response.location.endswith("#referrer-safety")
    page = case_page(officer, case_id)
    shown = text(section(page, 'id="referrer-safety"', "</details>"))
    assert "Referrer safety saved: a threat has been received." in shown
    assert "A threat has been received" in shown and "Escorted off site" in shown

    reference = text(section(page, "<h1>", "<span"))
    at_risk = text(section(lead.get("/oversight/").get_data(as_text=True), 'id="referrers-at-risk"', "</section>"))
    assert reference in at_risk and "A threat has been received" in at_risk
    assert f'href="/cases/{case_id}#referrer-safety"' in lead.get("/oversight/").get_data(as_text=True)

    post_form(officer, case_id, "referrer-safety", {"risk": "none", "police_informed": "yes", "measures": ""})
    at_risk = text(section(lead.get("/oversight/").get_data(as_text=True), 'id="referrers-at-risk"', "</section>"))
    assert reference not in at_risk


def test_a_refused_referrer_safety_form_says_what_to_fix_and_keeps_what_was_typed(web, ctx):
    case_id = a_case()
    response = post_form(web("officer"), case_id, "referrer-safety", {"risk": "concern", "measures": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = text(section(page, 'class="error-summary"', "</ul>"))
    assert "Say whether the police have been told" in summary
    assert "Enter what is being done to keep them safe" in summary
    assert re.search(r'value="concern"\s+checked', section(page, 'id="set-referrer-safety"', "</form>"))
    assert db.session.get(ReferrerSafety, case_id) is None


# --- the person who raised the concern never sees either -------------------------------------------------------

def test_the_reporter_never_sees_parallel_referrals_or_referrer_safety(web, api, ctx):
    case_id = a_case()
    note, measures = f"MASH note {marker()}", f"Safety measures {marker()}"
    officer = api("officer")
    assert officer.post(f"/api/v1/case/{case_id}/parallel_referrals",
                        json=referral(note=note, reference="SECRET-REF")).status_code == 201
    safety = {"risk": "threat_received", "police_informed": True, "measures": measures}
    assert officer.put(f"/api/v1/case/{case_id}/referrer_safety", json=safety).status_code == 200
    hidden = (note, measures, "SECRET-REF", "MASH", "Parallel", "Referrer safety", "threat")

    staff = web("staff")
    for path in (f"/cases/{case_id}", f"/concerns/{case_id}/raised", "/concerns/mine"):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert not [word for word in hidden if word in response.get_data(as_text=True)], path
    reporter = api("staff")
    shown = reporter.get(f"/api/v1/case/{case_id}")
    assert shown.status_code == 200
    assert not [word for word in hidden if word in shown.get_data(as_text=True)]
    assert set(shown.get_json()["result"]) == {"id", "reference", "status", "recorded_at", "occurred_at",
                                               "description", "subject_id"}
    assert reporter.get(f"/api/v1/case/{case_id}/chronology").status_code == 403
    for path in ("parallel_referrals", "referrer_safety"):
        refused = reporter.get(f"/api/v1/case/{case_id}/{path}")
        assert refused.status_code == 404
        assert not [word for word in hidden if word in refused.get_data(as_text=True)]


# --- retention --------------------------------------------------------------------------------------------------

def test_retention_erases_the_notes_references_and_measures_with_the_case(ctx):
    """What officers wrote beside the pathway goes with the rest of the person's records, and the erasure's
    tombstone seals the rows it blanked."""
    from datetime import UTC, datetime, time

    from app.cases import use_cases as cases
    from app.cases.parallel_referrals import record_parallel_referral
    from app.cases.referrer_safety import set_referrer_safety
    from app.governance import retention
    from app.governance.retention import add_years
    from app.kernel import audit_verify
    from tests.conftest import user
    from tests.test_retention import rows_mentioning

    words = marker()
    born = add_years(TODAY, -25) - timedelta(days=1)  # a child at the concern, whose records fell due yesterday
    case_id = make_case("staff", "under_review", occurred_at=datetime.combine(
        add_years(born, 16), time(10), tzinfo=UTC).isoformat(), subject={
        "full_name": f"Person {words}", "subject_type": "learner", "date_of_birth": born.isoformat()})
    record_parallel_referral(user("officer"), case_id, referral(note=f"Note {words}", reference=f"R{words}"))
    set_referrer_safety(user("officer"), case_id, {"risk": "concern", "police_informed": False,
                                                   "measures": f"Measures {words}"})
    cases.transition(user("officer"), case_id, {"event": "close", "outcome": "no_further_action", "reason": "Done"})
    assert {"case_parallel_referral", "case_referrer_safety"} <= set(rows_mentioning(words))
    differ = audit_verify.verify(db.session, records=True).records.findings

    subject_id = db.session.get(Case, case_id).subject_id
    retention.run(TODAY)
    retention.approve(user("lead"), {"subject_ids": [subject_id], "reason": "Past the retention period in the policy"})
    retention.run(TODAY)
    assert rows_mentioning(words) == []
    assert db.session.get(ReferrerSafety, case_id).risk.value == "concern"  # the row stays, its words go
    assert audit_verify.verify(db.session, records=True).records.findings == differ
