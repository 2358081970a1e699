"""External speakers and events (issue 14, point 2): any employee asks for approval and sees only their own requests;
an officer or the Prevent Lead checks and decides (approved, approved with conditions, declined, with a reason),
once, never on their own request; the register is searchable by speaker and warns of a speaker declined before;
audited; the person who asked hears of the decision by email; `evidence()` gives the evidence pack its figures."""
from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kernel.errors import Forbidden
from app.models import AuditEvent, SpeakerRequest
from app.speakers import use_cases as speakers
from app.speakers.schemas import NOT_PAST
from tests.conftest import csrf_token, deliver, make_user, user
from tests.sample_files import PDF
from tests.test_pages import text

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
DECIDERS = {"officer", "lead"}
SOON = (date.today() + timedelta(days=21)).isoformat()


def a_speaker() -> str:
    """A speaker of the test's own: no other test's requests name them."""
    return f"Dr Speaker {uuid.uuid4().hex[:8]}"


def payload(**fields: Any) -> dict[str, Any]:
    return {"speaker": a_speaker(), "topic": "Extremism and the internet", "event_date": SOON,
            "audience": "Level 3 business apprentices, about 40", "format": "in_person", **fields}


def ask(by: str = "staff", **fields: Any) -> SpeakerRequest:
    return speakers.request_approval(user(by), payload(**fields))


def decide(row_id: int, by: str = "officer", **fields: Any) -> SpeakerRequest:
    return speakers.decide(user(by), row_id, {"decision": "approved", "reason": "Checked, no concerns", **fields})


def request_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SpeakerRequest))


def actions_on(row_id: int) -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "SpeakerRequest", AuditEvent.entity_id == str(row_id))
        .order_by(AuditEvent.seq)).all()


# --- asking, per role ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_employee_asks_for_approval_and_it_is_audited(api, role):
    body = payload(materials="Slides: https://example.org/talk")
    answer = api(role).post("/api/v1/speaker_request/", json=body)
    assert answer.status_code == 201, answer.get_json()
    result = answer.get_json()["result"]
    assert {key: result[key] for key in body} == body
    assert result["status"] == "requested" and result["decision"] is None
    assert actions_on(answer.get_json()["id"]) == ["request_speaker"]
    assert db.session.get(SpeakerRequest, answer.get_json()["id"]).requested_by_id == user(role).id


def test_signed_out_callers_get_401(api):
    assert api(None).get("/api/v1/speaker_request/").status_code == 401
    assert api(None).post("/api/v1/speaker_request/", json=payload()).status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_staff_see_only_their_own_requests_and_officers_and_the_lead_see_every_one(api, role):
    others = ask("staff2")
    own = speakers.request_approval(user(role), payload())
    client = api(role)
    listed = client.get("/api/v1/speaker_request/?q=(page_size:100)").get_json()
    assert own.id in listed["ids"]
    other = client.get(f"/api/v1/speaker_request/{others.id}")
    if role in DECIDERS:
        assert others.id in listed["ids"] and other.status_code == 200
        assert other.get_json()["result"]["requested_by"] == "staff2"
    else:
        assert all(db.session.get(SpeakerRequest, i).requested_by_id == user(role).id for i in listed["ids"])
        assert other.status_code == 404
        assert others.speaker not in other.get_data(as_text=True)
        # their own, without what the officers keep
        mine = client.get(f"/api/v1/speaker_request/{own.id}").get_json()["result"]
        assert not {"checks", "risk", "requested_by", "decided_by", "declined_before"} & set(mine)


def test_malformed_requests_get_422_naming_each_field_and_store_nothing(api):
    before = request_count()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    answer = api("staff").post("/api/v1/speaker_request/", json={
        "speaker": " ", "topic": "x" * 301, "event_date": yesterday, "format": "video", "colour": "red"})
    assert answer.status_code == 422
    message = answer.get_json()["message"]
    assert message["speaker"] == ["This field is required."]
    assert message["audience"] == ["This field is required."]
    assert message["event_date"] == [NOT_PAST]
    assert message["format"] == ["Choose one of: online, in_person."]
    assert "topic" in message and "colour" in message
    assert api("staff").post("/api/v1/speaker_request/", json=payload(event_date="31/12/2030")).status_code == 422
    assert request_count() == before
    # today is not in the past
    assert api("staff").post("/api/v1/speaker_request/",
                             json=payload(event_date=date.today().isoformat())).status_code == 201


# --- deciding -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_only_officers_and_the_lead_decide(api, role):
    row = ask("staff2")
    answer = api(role).post(f"/api/v1/speaker_request/{row.id}/decision",
                            json={"decision": "approved_with_conditions", "reason": "Suitable with a chair",
                                  "conditions": "A member of staff chairs; the session is recorded",
                                  "checks": "Searched the speaker and their organisation", "risk": "medium"})
    db.session.expire_all()
    if role in DECIDERS:
        assert answer.status_code == 200, answer.get_json()
        result = answer.get_json()["result"]
        assert (result["status"], result["conditions"], result["risk"], result["decided_by"]) == (
            "approved_with_conditions", "A member of staff chairs; the session is recorded", "medium", role)
        assert actions_on(row.id) == ["request_speaker", "decide_speaker_request"]
    else:
        assert answer.status_code == 403
        assert db.session.get(SpeakerRequest, row.id).decision is None
        assert actions_on(row.id) == ["request_speaker"]


@pytest.mark.parametrize("role", sorted(DECIDERS))
def test_nobody_decides_their_own_request(api, role):
    row = ask(role)
    answer = api(role).post(f"/api/v1/speaker_request/{row.id}/decision",
                            json={"decision": "approved", "reason": "Fine"})
    assert answer.status_code == 403
    assert answer.get_json()["message"] == speakers.OWN_REQUEST
    db.session.expire_all()
    assert db.session.get(SpeakerRequest, row.id).decision is None
    # another decider may
    other = "lead" if role == "officer" else "officer"
    assert api(other).post(f"/api/v1/speaker_request/{row.id}/decision",
                           json={"decision": "approved", "reason": "Fine"}).status_code == 200


def test_a_decided_request_is_not_decided_again(api):
    row = ask()
    decide(row.id, decision="declined", reason="Spoke for a proscribed group")
    answer = api("lead").post(f"/api/v1/speaker_request/{row.id}/decision",
                              json={"decision": "approved", "reason": "Changed my mind"})
    assert answer.status_code == 409
    assert answer.get_json() == {"message": "This request was decided already: declined.", "status": "declined"}
    db.session.expire_all()
    assert db.session.get(SpeakerRequest, row.id).reason == "Spoke for a proscribed group"
    assert actions_on(row.id) == ["request_speaker", "decide_speaker_request"]


def test_conditions_come_with_an_approval_with_conditions_and_only_then(api):
    row = ask()
    officer = api("officer")
    url = f"/api/v1/speaker_request/{row.id}/decision"
    missing = officer.post(url, json={"decision": "approved_with_conditions", "reason": "With a chair"})
    assert missing.status_code == 422 and missing.get_json()["message"] == {"conditions": ["This field is required."]}
    extra = officer.post(url, json={"decision": "approved", "reason": "Fine", "conditions": "A chair"})
    assert extra.status_code == 422 and list(extra.get_json()["message"]) == ["conditions"]
    blank = officer.post(url, json={"decision": "declined", "reason": " ", "risk": "severe"})
    assert blank.status_code == 422 and set(blank.get_json()["message"]) == {"reason", "risk"}
    assert officer.post("/api/v1/speaker_request/999999/decision",
                        json={"decision": "approved", "reason": "Fine"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(SpeakerRequest, row.id).decision is None
    assert actions_on(row.id) == ["request_speaker"]


# --- the register and the warning ---------------------------------------------------------------------------------

def test_a_speaker_declined_before_is_shown_with_the_earlier_decision(api):
    name = a_speaker()
    first = ask(speaker=name, topic="First talk")
    decide(first.id, decision="declined", reason="Links to an extremist group")
    again = ask("staff2", speaker=f"  {name.upper()} ", topic="Second talk")  # typed otherwise: the same speaker
    answer = api("officer").get(f"/api/v1/speaker_request/{again.id}").get_json()["result"]
    [earlier] = answer["declined_before"]
    assert (earlier["id"], earlier["topic"], earlier["reason"]) == (first.id, "First talk",
                                                                    "Links to an extremist group")
    assert api("officer").get(f"/api/v1/speaker_request/{ask().id}").get_json()["result"]["declined_before"] == []
    # the person who asked is not shown the earlier decision
    assert "declined_before" not in api("staff2").get(f"/api/v1/speaker_request/{again.id}").get_json()["result"]


def test_the_register_is_searchable_by_speaker(api, web):
    marker = uuid.uuid4().hex[:8]
    wanted = ask(speaker=f"Ada Lovelace {marker}")
    ask(speaker=f"Grace Hopper {marker}")
    found = api("lead").get(f"/api/v1/speaker_request/?q=(speaker:'lovelace {marker.upper()}')").get_json()
    assert found["ids"] == [wanted.id]
    decide(wanted.id, decision="declined", reason="Not suitable")
    ask("staff2", speaker=f"Ada Lovelace {marker}", topic="Again")
    page = web("officer").get(f"/speakers/?speaker=lovelace+{marker}")
    assert page.status_code == 200
    shown = text(page.get_data(as_text=True))
    assert shown.count(f"Ada Lovelace {marker}") == 2 and "Declined before (1 time)" in shown
    assert f"Grace Hopper {marker}" not in shown
    assert api("lead").get("/api/v1/speaker_request/?q=(decided:maybe)").status_code == 400


# --- pages --------------------------------------------------------------------------------------------------------

def form(client, url: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": csrf_token(client.get(url).get_data(as_text=True)), **fields}


def test_staff_ask_on_the_page_and_see_their_requests(web):
    staff = web("staff")
    name = a_speaker()
    day = date.today() + timedelta(days=30)
    response = staff.post("/speakers/new", data=form(
        staff, "/speakers/new", speaker=name, topic="British values", audience="Apprentices",
        format="online", **{"event_date-day": day.day, "event_date-month": day.month, "event_date-year": day.year}))
    assert response.status_code == 302
    row = db.session.scalar(sa.select(SpeakerRequest).where(SpeakerRequest.speaker == name))
    assert (row.event_date, row.format.value, row.requested_by_id) == (day, "online", user("staff").id)
    mine = text(staff.get("/speakers/mine").get_data(as_text=True))
    assert name in mine and "Waiting for a decision" in mine
    assert ask("staff2").speaker not in mine
    assert staff.get("/speakers/").status_code == 403  # the register is the officers'


def test_materials_go_with_the_request_as_a_file_for_the_asker_and_the_officers_only(web):
    staff = web("staff")
    name = a_speaker()
    day = date.today() + timedelta(days=10)
    fields = {"speaker": name, "topic": "Online safety", "audience": "Apprentices", "format": "online",
              "event_date-day": day.day, "event_date-month": day.month, "event_date-year": day.year}
    before = request_count()
    refused = staff.post("/speakers/new", content_type="multipart/form-data", data=form(
        staff, "/speakers/new", **fields, materials_file=(io.BytesIO(b"<script>alert(1)</script>"), "slides.pdf")))
    assert refused.status_code == 422 and "Only PDF, PNG, JPEG, DOCX files can be attached" in text(
        refused.get_data(as_text=True))
    assert request_count() == before
    sent = staff.post("/speakers/new", content_type="multipart/form-data", data=form(
        staff, "/speakers/new", **fields, materials_file=(io.BytesIO(PDF), "slides.pdf")))
    assert sent.status_code == 302
    row = db.session.scalar(sa.select(SpeakerRequest).where(SpeakerRequest.speaker == name))
    assert row.materials_file.filename == "slides.pdf"
    for role, status in (("staff", 200), ("officer", 200), ("lead", 200), ("staff2", 404), ("governance", 404)):
        download = web(role).get(f"/speakers/{row.id}/materials")
        assert download.status_code == status, role
        if status == 200:
            assert download.data == PDF and download.headers["Content-Disposition"].startswith("attachment")
    assert "slides.pdf" in text(web("officer").get(f"/speakers/{row.id}").get_data(as_text=True))
    assert web("officer").get(f"/speakers/{ask().id}/materials").status_code == 404  # none sent


def test_a_refused_form_says_what_to_fix_keeps_what_was_typed_and_sends_nothing(web):
    staff = web("staff")
    before = request_count()
    past = date.today() - timedelta(days=3)
    response = staff.post("/speakers/new", data=form(
        staff, "/speakers/new", speaker="", topic="Typed topic kept", audience="Typed audience",
        **{"event_date-day": past.day, "event_date-month": past.month, "event_date-year": past.year}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    shown = text(page)
    for message in ("Enter the name of the speaker, or of the organisation running the event",
                    "The date of the talk or event must be today or in the future",
                    "Choose whether it is online or in person"):
        assert message in shown
    assert "Typed topic kept" in page and "Typed audience" in page and f'value="{past.year}"' in page
    assert 'class="error-summary"' in page
    assert request_count() == before


def test_an_officer_decides_on_the_page_and_the_person_who_asked_reads_it(web):
    name = a_speaker()
    earlier = ask(speaker=name, topic="Earlier talk")
    decide(earlier.id, decision="declined", reason="Hate speech in past talks")
    row = ask("staff2", speaker=name)
    officer = web("officer")
    url = f"/speakers/{row.id}"
    shown = text(officer.get(url).get_data(as_text=True))
    assert "This speaker was declined before" in shown and "Hate speech in past talks" in shown
    refused = officer.post(f"{url}/decision", data=form(officer, url, decision="approved_with_conditions",
                                                        reason="Typed reason kept"))
    assert refused.status_code == 422
    assert "Enter the conditions of the approval" in text(refused.get_data(as_text=True))
    assert "Typed reason kept" in refused.get_data(as_text=True)
    done = officer.post(f"{url}/decision", data=form(
        officer, url, decision="approved_with_conditions", reason="Suitable with safeguards",
        conditions="A member of staff chairs", checks="Searched the speaker's past talks", risk="medium"))
    assert done.status_code == 302
    again = officer.post(f"{url}/decision", data={"csrf_token": csrf_token(officer.get(url).get_data(as_text=True)),
                                                  "decision": "declined", "reason": "No"})
    assert again.status_code == 409 and "decided already" in text(again.get_data(as_text=True))
    asker = text(web("staff2").get(url).get_data(as_text=True))
    assert "Approved with conditions" in asker and "A member of staff chairs" in asker
    assert "Searched the speaker's past talks" not in asker and "declined before" not in asker
    assert web("staff").get(url).status_code == 404  # not theirs


def test_an_officer_is_told_on_the_page_why_they_may_not_decide_their_own(web):
    row = ask("officer")
    officer = web("officer")
    page = text(officer.get(f"/speakers/{row.id}").get_data(as_text=True))
    assert speakers.OWN_REQUEST in page and "Record the decision" not in page
    answer = officer.post(f"/speakers/{row.id}/decision", data={
        "csrf_token": csrf_token(officer.get(f"/speakers/{row.id}").get_data(as_text=True)),
        "decision": "approved", "reason": "Mine"})
    assert answer.status_code == 403 and speakers.OWN_REQUEST in text(answer.get_data(as_text=True))


@pytest.mark.parametrize("role", ROLES)
def test_pages_per_role(web, role):
    row = ask("staff2")
    client = web(role)
    assert client.get("/speakers/mine").status_code == 200
    assert client.get("/speakers/new").status_code == 200
    assert client.get("/speakers/").status_code == (200 if role in DECIDERS else 403)
    assert client.get(f"/speakers/{row.id}").status_code == (200 if role in DECIDERS else 404)


# --- email --------------------------------------------------------------------------------------------------------

def test_the_deciders_hear_of_a_request_and_the_person_who_asked_of_the_decision(inbox):
    asker = make_user("Staff", "asker")
    row = speakers.request_approval(user(asker), payload())
    told = [m for m in deliver(inbox) if f"request {row.id} " in m["Subject"]]
    assert {m["X-Envelope-To"] for m in told} >= {"officer@example.org", "lead@example.org"}
    assert all(row.speaker not in m.get_payload() for m in told)
    decide(row.id, decision="declined", reason="Not suitable")
    [email] = [m for m in deliver(inbox) if m["X-Envelope-To"] == f"{asker}@example.org"]
    assert email["Subject"] == f"Your external speaker request {row.id}: declined"
    body = email.get_payload()
    assert f"/speakers/{row.id}" in body and row.speaker not in body and "Not suitable" not in body


def test_requests_and_decisions_leave_their_records_as_sealed(app):
    from tests.test_record_seals import verify_records
    row = ask()
    decide(row.id, decision="approved_with_conditions", conditions="Recorded", risk="low")
    code, findings, summary = verify_records(app)
    assert (code, findings) == (0, []), summary


# --- the evidence pack --------------------------------------------------------------------------------------------

def test_evidence_counts_decisions_in_the_period_with_rows_and_no_names_of_people_who_asked():
    today = date.today()
    before = speakers.evidence(db.session, user("lead"), today, today)
    approved, conditional, declined, waiting = ask(), ask(), ask(), ask()
    decide(approved.id)
    decide(conditional.id, decision="approved_with_conditions", conditions="Recorded")
    decide(declined.id, decision="declined", reason="No")
    figures = speakers.evidence(db.session, user("governance"), today, today)
    assert figures["decided"] - before["decided"] == 3
    assert {k: figures["by_decision"][k] - before["by_decision"][k] for k in figures["by_decision"]} == {
        "approved": 1, "approved_with_conditions": 1, "declined": 1}
    assert figures["requested"] - before["requested"] == 4 and figures["waiting"] - before["waiting"] == 1
    mine = [r for r in figures["rows"] if r["speaker"] in {approved.speaker, conditional.speaker, declined.speaker}]
    assert [r["decision"] for r in mine] == ["approved", "approved_with_conditions", "declined"]
    assert mine[1] == {"decided_on": today.isoformat(), "event_date": SOON, "speaker": conditional.speaker,
                       "topic": "Extremism and the internet", "format": "in_person",
                       "decision": "approved_with_conditions", "conditions": "Recorded"}
    assert "staff" not in repr(figures) and waiting.speaker not in repr(figures)
    # another period holds none of them
    assert speakers.evidence(db.session, user("lead"), today - timedelta(days=400),
                             today - timedelta(days=300))["rows"] == []
    for role in ("staff", "director", "admin"):
        with pytest.raises(Forbidden):
            speakers.evidence(db.session, user(role), today, today)
