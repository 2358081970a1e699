"""The API takes only the fields meant to be written: an unknown field, or one the system sets (status, owner,
version where it is not an input ...), is refused with 422 naming it, and nothing changes; valid payloads still work."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.cases import access, actions
from app.employers import use_cases as employers
from app.extensions import db
from app.kernel.validation import PROTECTED_MESSAGE, UNKNOWN_MESSAGE
from app.models import (
    AuditEvent,
    BreakGlass,
    Case,
    CaseAccessGrant,
    CaseAction,
    CaseEntry,
    Employer,
    EmployerCommunication,
    Risk,
    RiskAction,
    RiskReview,
    SpeakerRequest,
    Subject,
    TrainingCourse,
    TrainingRecord,
)
from tests.conftest import PASSWORD, concern_payload, make_case, user

TODAY = date.today().isoformat()
COUNTED = (AuditEvent, BreakGlass, Case, Subject, CaseEntry, CaseAction, CaseAccessGrant, Employer,
           EmployerCommunication, TrainingRecord, Risk, RiskAction, RiskReview, SpeakerRequest)


def restricted_case() -> int:
    """A concern about a colleague: restricted, so that access is granted one officer at a time."""
    return make_case(subject={"full_name": f"Colleague {uuid.uuid4().hex[:6]}", "subject_type": "staff"})


def an_employer() -> int:
    marker = uuid.uuid4().hex[:8]
    return employers.create_employer(user("lead"), {"name": f"Employer {marker}", "director_id": user("director").id,
                                                    "contact_email": f"p-{marker}@employer.example"}).id


def an_action(case_id: int) -> int:
    return actions.add_action(user("officer"), case_id, {"title": "Call the tutor", "owner_id": user("officer").id,
                                                         "due_date": TODAY}).id


def a_course() -> int:
    return db.session.scalar(sa.select(TrainingCourse.id).where(TrainingCourse.active.is_(True)).limit(1))


# A monitoring system, not a user: it sends alerts with its source's key (app/monitoring), never a sign-in.
SOURCE = "monitoring source"


@dataclass
class SourceClient:
    client: Any
    key: str

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.key}


def client_for(api, role: str):
    """The API client of a role, or of a new monitoring source."""
    if role != SOURCE:
        return api(role)
    from app.monitoring import use_cases as monitoring
    _, key = monitoring.add_source(user("admin"), {"name": f"Filter {uuid.uuid4().hex[:8]}"})
    return SourceClient(api(None).client, key)


def _alert():
    return "/api/v1/monitoring/alert", {
        "source_id": f"WF-{uuid.uuid4().hex[:8]}", "occurred_at": f"{TODAY}T00:00:00+00:00", "user": "a.learner",
        "category": "Extremism", "severity": "medium", "excerpt": "searched for a banned group"}, None


def _on_alert(path: str, payload: dict[str, Any]):
    def prepare():
        from app.monitoring import use_cases as monitoring
        from app.monitoring.models import MonitoringAlert
        _, key = monitoring.add_source(user("admin"), {"name": f"Filter {uuid.uuid4().hex[:8]}"})
        url, body, _ = _alert()
        alert, _ = monitoring.receive_alert(key, body)
        return f"/api/v1/monitoring/alert/{alert.id}/{path}", payload, (MonitoringAlert, alert.id)
    return prepare


@dataclass
class Write:
    """One write endpoint: who calls it, and how to make a record to call it on; `prepare` returns the URL, a valid
    payload, and the record the call changes (model, id), if any."""

    name: str
    role: str
    method: str
    prepare: Callable[[], tuple[str, dict[str, Any], tuple[type, int] | None]]
    protected: str  # a field of the record that the system sets


def _transition():
    case_id = make_case()
    version = db.session.get(Case, case_id).version
    return f"/api/v1/case/{case_id}/transition", {"event": "acknowledge", "reason": "Seen", "version": version}, \
        (Case, case_id)


def _grant():
    case_id = restricted_case()
    return f"/api/v1/case/{case_id}/grants", {"user_id": user("officer2").id, "reason": "Covering"}, (Case, case_id)


def _revoke():
    case_id = restricted_case()
    access.grant_access(user("lead"), case_id, {"user_id": user("officer2").id, "reason": "Covering"})
    return f"/api/v1/case/{case_id}/grants/{user('officer2').id}", {"reason": "Back from leave"}, (Case, case_id)


def _update_action():
    case_id = make_case(state="under_review")
    action_id = an_action(case_id)
    version = db.session.get(CaseAction, action_id).version
    return f"/api/v1/action/{action_id}", {"status": "done", "completion_note": "Called", "version": version}, \
        (CaseAction, action_id)


def _update_employer():
    employer_id = an_employer()
    version = db.session.get(Employer, employer_id).version
    return f"/api/v1/employer/{employer_id}", {"contact_name": "Sam New", "version": version}, (Employer, employer_id)


def _case_on(path: str, payload: Callable[[], dict[str, Any]]):
    def prepare():
        case_id = make_case(state="under_review")
        return f"/api/v1/case/{case_id}/{path}", payload(), (Case, case_id)
    return prepare


def _communication():
    employer_id = an_employer()
    return f"/api/v1/employer/{employer_id}/communications", \
        {"occurred_on": TODAY, "method": "meeting", "shared": ["policy"]}, (Employer, employer_id)


_days_ago = itertools.count(1)


def _break_glass():
    from tests.test_break_glass import Sealed
    case_id = Sealed().case
    return f"/api/v1/case/{case_id}/break_glass", {"reason": "The police need an answer today"}, (Case, case_id)


def _legal_hold():
    subject_id = db.session.get(Case, make_case()).subject_id
    return f"/api/v1/subject/{subject_id}/legal_hold", {"hold": True, "reason": "A claim is pending"}, \
        (Subject, subject_id)


def _speaker_request_payload() -> dict[str, Any]:
    return {"speaker": f"Speaker {uuid.uuid4().hex[:6]}", "topic": "Careers in policing",
            "event_date": (date.today() + timedelta(days=14)).isoformat(), "audience": "Level 3 apprentices",
            "format": "in_person"}


def _speaker_decision():
    from app.speakers import use_cases as speakers
    row = speakers.request_approval(user("staff"), _speaker_request_payload())
    return f"/api/v1/speaker_request/{row.id}/decision", {"decision": "approved", "reason": "Checked"}, \
        (SpeakerRequest, row.id)


def _completion():
    """A completion on a day not recorded before: the same course twice on one day is refused."""
    return "/api/v1/training_record/", \
        {"course_id": a_course(), "completed_on": (date.today() - timedelta(days=next(_days_ago))).isoformat()}, None


def a_risk() -> int:
    from app.risks import use_cases as risks
    return risks.add_risk(user("lead"), {"area": "it_online_safety", "title": f"Risk {uuid.uuid4().hex[:6]}",
                                         "likelihood": 3, "impact": 3}).id


def _update_risk():
    risk_id = a_risk()
    return f"/api/v1/risk/{risk_id}", {"area": "it_online_safety", "title": "Filtering gaps", "likelihood": 4,
                                       "impact": 4, "version": db.session.get(Risk, risk_id).version}, \
        (Risk, risk_id)


def _update_risk_action():
    from app.risks import use_cases as risks
    action_id = risks.add_action(user("lead"), a_risk(), {"title": "Check the filtering", "due_date": TODAY,
                                                          "owner_id": user("officer").id}).id
    return f"/api/v1/risk/action/{action_id}", {"status": "done", "completion_note": "Checked"}, \
        (RiskAction, action_id)
def _policy_confirmation():
    """The current version of a policy that a new version has just replaced (no one has confirmed it yet)."""
    from app.policies import use_cases as policies
    policy = policies.register(db.session, user("lead"))[0]
    label = f"t{uuid.uuid4().hex[:6]}"
    policies.add_version(user("lead"), policy.id, {"label": label, "owner": "Prevent Lead",
                                                   "published_on": TODAY, "next_review_on": "2099-01-01"})
    return f"/api/v1/policy/{policy.id}/confirm", {"version": label}, None


WRITES = (
    Write("create subject", "officer", "post",
          lambda: ("/api/v1/subject/", {"full_name": "Alex Example", "subject_type": "learner"}, None),
          "created_by_id"),
    Write("raise a concern", "staff", "post", lambda: ("/api/v1/case/", concern_payload(), None), "status"),
    Write("take an event", "officer", "post", _transition, "status"),
    Write("record immediate risk", "officer", "post",
          _case_on("immediate_risk", lambda: {"police_called": True, "note": "999 called"}), "version"),
    Write("add an action", "officer", "post",
          _case_on("actions", lambda: {"title": "Call the tutor", "owner_id": user("officer").id, "due_date": TODAY}),
          "status"),
    Write("add a note", "officer", "post", _case_on("notes", lambda: {"kind": "note", "text": "Spoke to the tutor"}),
          "reporter"),
    Write("grant access", "lead", "post", _grant, "granted_by_id"),
    Write("withdraw access", "lead", "delete", _revoke, "id"),
    Write("update an action", "officer", "put", _update_action, "owner"),
    Write("create an employer", "lead", "post", lambda: (
        "/api/v1/employer/", {"name": f"Employer {uuid.uuid4().hex[:8]}", "director_id": user("director").id}, None),
        "version"),
    Write("update an employer", "lead", "put", _update_employer, "created_by"),
    Write("log a communication", "lead", "post", _communication, "created_by_id"),
    Write("record a training completion", "staff", "post", _completion, "staff_member_id"),
    Write("break glass", "lead", "post", _break_glass, "expires_at"),
    Write("put a subject on legal hold", "lead", "put", _legal_hold, "erased_at"),
    Write("record the referral form's details", "officer", "put",
          _case_on("referral_form", lambda: {"postcode": "bs1 4dj", "threats_intentions": "None known",
                                             "parents_carers_told": "yes", "version": 0}), "case_id"),
    Write("record a parallel referral", "officer", "post", _case_on(
        "parallel_referrals", lambda: {"kind": "mash", "referred_on": TODAY, "note": "Copy sent to the MASH"}),
        "recorded_at"),
    Write("record the referrer's safety", "officer", "put", _case_on(
        "referrer_safety", lambda: {"risk": "concern", "police_informed": False, "measures": "Another site"}),
        "updated_at"),
    Write("add a risk", "lead", "post", lambda: (
        "/api/v1/risk/", {"area": "staff_training", "title": "Refreshers missed", "likelihood": 2, "impact": 2},
        None), "created_by_id"),
    Write("change a risk", "lead", "put", _update_risk, "created_at"),
    Write("add an action to the risk plan", "lead", "post", lambda: (
        f"/api/v1/risk/{a_risk()}/actions",
        {"title": "Brief the IT team", "owner_id": user("officer").id, "due_date": TODAY}, None), "status"),
    Write("complete an action of the risk plan", "lead", "put", _update_risk_action, "completed_at"),
    Write("sign off the risk assessment", "lead", "post", lambda: (
        "/api/v1/risk/review", {"note": "Reviewed with the Board"}, None) if a_risk() else None, "created_at"),
    Write("ask for approval of a speaker", "staff", "post",
          lambda: ("/api/v1/speaker_request/", _speaker_request_payload(), None), "status"),
    Write("decide on a speaker", "officer", "post", _speaker_decision, "status"),
    Write("confirm reading a policy", "staff", "post", _policy_confirmation, "user_id"),
    Write("log a British values activity", "director", "post", lambda: ("/api/v1/british_values/activity", {
        "programme": "Level 3 Business", "held_on": TODAY, "value": "democracy",
        "description": "Learners ran a mock election"}, None), "recorded_at"),
    Write("record Learner Voice results", "director", "post", lambda: ("/api/v1/learner_voice/", {
        "programme": "Level 3 Business", "period_start": "2026-01-05", "period_end": TODAY, "respondents": 20,
        "feel_safe_agree": 18, "feel_safe_total": 20}, None), "recorded_at"),
    Write("send a monitoring alert", SOURCE, "post", _alert, "case_id"),
    Write("dismiss a monitoring alert", "officer", "post", _on_alert("dismiss", {"reason": "A history lesson"}),
          "case_id"),
    Write("raise a concern from a monitoring alert", "officer", "post", _on_alert(
        "concern", {"subject": {"full_name": "Alex Example", "subject_type": "learner"}, "note": "Tutor told"}),
        "reporter_id"),
    Write("add information to one's concern", "staff", "post",
          lambda: (f"/api/v1/case/{(case_id := make_case())}/information", {"text": "He said more today"},
                   (Case, case_id)), "status"),
)


def state(target: tuple[type, int] | None) -> tuple:
    """What a refused request must leave as it was: the row counts (the audit trail's included) and the record."""
    counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in COUNTED)
    record = None
    if target is not None:
        model, pk = target
        row = db.session.get(model, pk)
        record = {column.key: getattr(row, column.key) for column in sa.inspect(model).column_attrs}
    db.session.rollback()
    return counts, record


def send(client, method: str, url: str, payload: dict[str, Any]):
    return client.client.open(url, method=method.upper(), json=payload, headers=client._headers())


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_unknown_and_protected_fields_are_refused_and_change_nothing(api, ctx, write):
    url, payload, target = write.prepare()
    client = client_for(api, write.role)
    before = state(target)
    for extra, message in (("colour", UNKNOWN_MESSAGE), (write.protected, PROTECTED_MESSAGE)):
        response = send(client, write.method, url, {**payload, extra: "anything"})
        assert response.status_code == 422, (extra, response.get_json())
        assert response.get_json()["message"] == {extra: [message]}
        assert state(target) == before
    accepted = send(client, write.method, url, payload)
    assert accepted.status_code in (200, 201), accepted.get_json()
    assert state(target) != before


def test_every_offending_field_is_named_at_once_with_the_field_errors(api, ctx):
    payload = concern_payload(status="closed", reporter_id=user("lead").id, urgent=True, colour="blue",
                              description="")
    before = state(None)
    response = api("staff").post("/api/v1/case/", json=payload)
    assert response.status_code == 422
    assert response.get_json()["message"] == {
        "status": [PROTECTED_MESSAGE], "reporter_id": [PROTECTED_MESSAGE], "urgent": [PROTECTED_MESSAGE],
        "colour": [UNKNOWN_MESSAGE], "description": ["This field is required."]}
    assert state(None) == before


def test_the_new_subject_of_a_concern_takes_only_its_own_fields(api, ctx):
    payload = concern_payload()
    payload["subject"].update(id=1, nickname="Al")
    before = state(None)
    response = api("staff").post("/api/v1/case/", json=payload)
    assert response.status_code == 422
    assert response.get_json()["message"] == {"subject.id": [PROTECTED_MESSAGE], "subject.nickname": [UNKNOWN_MESSAGE]}
    assert state(None) == before


def test_a_concern_names_an_existing_subject_or_a_new_one_not_both(api, ctx):
    known = api("officer").post("/api/v1/subject/", json={"full_name": "Kim Known", "subject_type": "learner"})
    subject_id = known.get_json()["id"]
    for details in (concern_payload()["subject"], {}):  # an empty object too: found by schemathesis
        response = api("officer").post("/api/v1/case/", json=concern_payload(subject_id=subject_id, subject=details))
        assert response.status_code == 422
        assert list(response.get_json()["message"]) == ["subject"]
    assert api("officer").post("/api/v1/case/", json=concern_payload(subject_id=subject_id, subject=None)) \
        .status_code == 201


def test_an_event_takes_only_its_own_data(api, ctx):
    """Data of another event (here, the closing outcome on a referral) is refused, not quietly dropped."""
    url, payload, target = _transition()
    before = state(target)
    response = api("officer").post(url, json={**payload, "outcome": "no_further_action"})
    assert response.status_code == 422
    assert response.get_json()["message"] == {"outcome": [UNKNOWN_MESSAGE]}
    assert state(target) == before


def test_a_certificate_file_cannot_come_as_json(api, ctx):
    response = api("staff").post("/api/v1/training_record/", json={"course_id": a_course(), "completed_on": TODAY,
                                                                   "certificate": "c2VjcmV0"})
    assert response.status_code == 422
    assert list(response.get_json()["message"]) == ["certificate"]



def test_flask_appbuilders_own_sign_in_refuses_unknown_fields_too(app, ctx):
    """FAB's security API parses its bodies with marshmallow, which refuses unknown fields: 400, naming them (its
    user and role endpoints are closed to every role here: 403)."""
    response = app.test_client().post("/api/v1/security/login", json={
        "username": "officer", "password": PASSWORD, "provider": "db", "remember_me": True})
    assert response.status_code == 400
    assert response.get_json()["message"] == {"remember_me": ["Unknown field."]}
    assert "access_token" not in response.get_json()


def test_values_the_database_cannot_hold_are_refused_as_fields(api, ctx):
    """An id past the database's INTEGER and a NUL character (PostgreSQL refuses both) are bad fields, not 500s."""
    url, payload, target = _case_on("actions", lambda: {})()
    before = state(target)
    response = api("officer").post(url, json={"title": "Call\x00", "owner_id": 2**31, "due_date": TODAY})
    assert response.status_code == 422
    assert set(response.get_json()["message"]) == {"title", "owner_id"}
    assert state(target) == before


def test_a_board_report_period_of_centuries_is_refused(api, ctx):
    """One column per quarter: a period of thousands of years kept the server busy for minutes (found by fuzzing)."""
    response = api("lead").get("/api/v1/report/board?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 422
    assert set(response.get_json()["message"]) == {"to"}
