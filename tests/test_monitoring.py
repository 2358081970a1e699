"""Monitoring alerts in (issue 14, point 3): sources with a key each (the Admin's page and the command line), alerts
sent with a key (201; the same source id again 200, one row; unknown or revoked key 401; malformed 422, nothing
stored; rate limited per key), the alerts listed for officers and the Lead, and their triage on the queue pages:
a concern raised from an alert (linked, its words quoted, in the chronology) or dismissed with a reason, once."""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kernel.errors import Forbidden
from app.models import AuditEvent, Case, CaseEntry, MonitoringAlert, MonitoringSource
from app.monitoring import use_cases as monitoring
from app.monitoring.models import AlertState
from app.monitoring.schemas import ALERT
from tests.conftest import csrf_token, user
from tests.test_pages import section, text

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
TRIAGERS = {"officer", "lead"}
URL = "/api/v1/monitoring/alert"


def a_source(name: str | None = None) -> tuple[MonitoringSource, str]:
    return monitoring.add_source(user("admin"), {"name": name or f"Web filter {uuid.uuid4().hex[:8]}"})


def an_alert_body(**overrides: Any) -> dict[str, Any]:
    body = {"source_id": f"WF-{uuid.uuid4().hex[:10]}",
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
            "user": "jo.learner@college.example", "category": "Extremism", "severity": "high",
            "excerpt": "searched: how to join the movement"}
    body.update(overrides)
    return body


def send(app, key: str | None, body: Any):
    headers = {monitoring.KEY_HEADER: key} if key is not None else {}
    return app.test_client().post(URL, json=body, headers=headers)


def an_alert(**overrides: Any) -> MonitoringAlert:
    source, key = a_source()
    alert, created = monitoring.receive_alert(key, an_alert_body(**overrides))
    assert created
    return alert


def reread() -> None:
    """What the requests committed, read afresh (the test's session keeps what it loaded before them)."""
    db.session.rollback()
    db.session.expire_all()


def alert_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringAlert))


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def actions_on(entity: str, entity_id: int) -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == entity, AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.seq)).all()


# --- alerts in ----------------------------------------------------------------------------------------------------

def test_a_valid_alert_is_stored_once_and_the_same_source_id_again_answers_200_with_it(app):
    source, key = a_source()
    body = an_alert_body()
    first = send(app, key, body)
    assert first.status_code == 201, first.get_json()
    stored = first.get_json()
    assert stored["result"]["source_id"] == body["source_id"] and stored["result"]["source"] == source.name
    assert stored["result"]["severity"] == "high" and stored["result"]["excerpt"] == body["excerpt"]
    assert "case_id" not in stored["result"] and "state" not in stored["result"]  # triage is not the source's
    again = send(app, key, {**body, "excerpt": "something else"})
    assert again.status_code == 200
    assert again.get_json() == stored
    rows = db.session.scalars(sa.select(MonitoringAlert).where(MonitoringAlert.source_id == source.id)).all()
    assert len(rows) == 1 and rows[0].excerpt == body["excerpt"] and rows[0].state == AlertState.awaiting_triage
    assert actions_on("MonitoringAlert", rows[0].id) == ["receive_monitoring_alert"]
    # the same id from another source is another alert
    _, other_key = a_source()
    assert send(app, other_key, body).status_code == 201


def test_an_idempotency_key_header_changes_nothing_for_alerts(app):
    """Alerts are idempotent by their source id; the header kept per signed-in user has no user here."""
    _, key = a_source()
    body = an_alert_body()
    client = app.test_client()
    headers = {monitoring.KEY_HEADER: key, "Idempotency-Key": "same"}
    assert client.post(URL, json=body, headers=headers).status_code == 201
    assert client.post(URL, json=body, headers=headers).status_code == 200
    assert client.post(URL, json=an_alert_body(), headers=headers).status_code == 201


def test_a_request_that_loses_the_race_for_a_source_id_answers_with_the_row_that_won(app):
    """Two requests with the same source id at once both pass the first look-up; the unique constraint stops the
    second insert, which then answers with the stored alert (not a 500, not a second row)."""
    source, key = a_source()
    form = ALERT.check(an_alert_body())
    first, created = monitoring._store(source, form)
    second, created_again = monitoring._store(db.session.get(MonitoringSource, source.id), form)
    assert (created, created_again) == (True, False)
    assert second.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringAlert)
                             .where(MonitoringAlert.source_id == source.id)) == 1


@pytest.mark.parametrize("key", [None, "", "pcm_not-a-key-of-any-source", "x" * 500])
def test_no_key_or_an_unknown_key_gets_401_and_stores_nothing(app, key):
    before = alert_count(), audit_count()
    answer = send(app, key, an_alert_body())
    assert answer.status_code == 401
    assert answer.get_json() == {"message": "Send the key of an active monitoring source in the X-Api-Key header."}
    reread()
    assert (alert_count(), audit_count()) == before


def test_a_revoked_key_gets_401_even_with_a_valid_body(app):
    source, key = a_source()
    assert send(app, key, an_alert_body()).status_code == 201
    monitoring.revoke_source(user("admin"), source_id=source.id)
    before = alert_count()
    assert send(app, key, an_alert_body()).status_code == 401
    reread()
    assert alert_count() == before
    assert actions_on("MonitoringSource", source.id) == ["add_monitoring_source", "revoke_monitoring_source"]


def test_a_signed_in_users_token_is_no_key(app, api):
    answer = api("lead").post(URL, json=an_alert_body())
    assert answer.status_code == 401


@pytest.mark.parametrize("body, fields", [
    ({"severity": "critical"}, {"severity"}),
    ({"occurred_at": "yesterday"}, {"occurred_at"}),
    ({"source_id": ""}, {"source_id"}),
    ({"excerpt": None, "user": 42}, {"excerpt", "user"}),
    ({"case_id": 1, "colour": "red"}, {"case_id", "colour"}),
    ({"source_id": "x" * 101}, {"source_id"}),
    ({"occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, {"occurred_at"}),
])
def test_a_malformed_alert_gets_422_naming_each_field_and_stores_nothing(app, body, fields):
    _, key = a_source()
    before = alert_count(), audit_count()
    answer = send(app, key, an_alert_body(**body))
    assert answer.status_code == 422
    assert set(answer.get_json()["message"]) == fields
    reread()
    assert (alert_count(), audit_count()) == before


def test_a_body_that_is_not_an_alert_at_all_is_refused(app):
    _, key = a_source()
    missing = send(app, key, {})
    assert missing.status_code == 422
    assert set(missing.get_json()["message"]) == {"source_id", "occurred_at", "user", "category", "severity",
                                                  "excerpt"}
    assert send(app, key, ["not", "an", "object"]).status_code == 422
    not_json = app.test_client().post(URL, data="source_id=1", headers={monitoring.KEY_HEADER: key})
    assert not_json.status_code == 400


def test_alerts_are_rate_limited_per_key(app):
    """Each key has its own count: one source over its limit does not hold back another."""
    busy, busy_key = a_source()
    _, quiet_key = a_source()
    limit = app.config["MONITORING_RATE_LIMIT"]
    app.config["MONITORING_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [send(app, busy_key, an_alert_body()).status_code for _ in range(4)]
        assert answers == [201, 201, 201, 429]
        refused = send(app, busy_key, an_alert_body())
        assert refused.status_code == 429
        assert refused.get_json() == {"message": "Too many alerts from this key: slow down."}
        assert send(app, quiet_key, an_alert_body()).status_code == 201
    finally:
        app.config["MONITORING_RATE_LIMIT"] = limit


def test_the_key_is_kept_only_as_its_hash(app):
    source, key = a_source()
    assert key.startswith(monitoring.KEY_PREFIX) and len(key) > 40
    row = db.session.get(MonitoringSource, source.id)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str({c.key: getattr(row, c.key) for c in sa.inspect(MonitoringSource).column_attrs})
    audited = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "MonitoringSource",
                                                             AuditEvent.entity_id == str(source.id))).all()
    assert audited and all(key not in str(event.changes) for event in audited)


# --- the list (API) ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_officers_and_the_lead_list_alerts_and_no_other_role_does(api, role):
    alert = an_alert()
    answer = api(role).get("/api/v1/monitoring/alert/")
    if role in TRIAGERS:
        assert answer.status_code == 200
        listed = {row["id"]: row for row in answer.get_json()["result"]}
        assert listed[alert.id]["state"] == "awaiting_triage"
        assert listed[alert.id]["excerpt"] == alert.excerpt
    else:
        assert answer.status_code == 403
        assert alert.excerpt not in answer.get_data(as_text=True)


def test_the_list_is_for_signed_in_users_only_and_filters_those_awaiting_triage(api):
    assert api(None).get("/api/v1/monitoring/alert/").status_code == 401
    waiting, done = an_alert(), an_alert()
    monitoring.dismiss(user("officer"), done.id, {"reason": "A research project on history"})
    ids = api("officer").get("/api/v1/monitoring/alert/?q=(awaiting:!t,page_size:100)").get_json()["ids"]
    assert waiting.id in ids and done.id not in ids
    assert api("officer").get("/api/v1/monitoring/alert/?q=(awaiting:maybe)").status_code == 400


# --- the queue and triage (pages) ---------------------------------------------------------------------------------

def post(client, url: str, data: dict[str, Any], page: str):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


@pytest.mark.parametrize("role", ROLES)
def test_the_queue_and_an_alerts_page_are_for_officers_and_the_lead(web, role):
    alert = an_alert()
    client = web(role)
    queue = client.get("/monitoring/")
    page = client.get(f"/monitoring/{alert.id}")
    if role in TRIAGERS:
        assert queue.status_code == 200 and page.status_code == 200
        assert f'href="/monitoring/{alert.id}"' in queue.get_data(as_text=True)
        shown = text(page.get_data(as_text=True))
        assert alert.excerpt in shown and "Raise the concern" in shown and "Dismiss the alert" in shown
    else:
        assert queue.status_code == 403 and page.status_code == 403
        assert alert.excerpt not in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_only_officers_and_the_lead_triage(web, role):
    alert = an_alert()
    client = web(role)
    page = "/monitoring/" if role in TRIAGERS else "/concerns/new"
    dismissed = post(client, f"/monitoring/{alert.id}/dismiss", {"reason": "Not a concern"}, page)
    raised = post(client, f"/monitoring/{an_alert().id}/raise",
                  {"subject.full_name": "Jo Learner", "subject.subject_type": "learner"}, page)
    if role in TRIAGERS:
        assert dismissed.status_code == 302 and raised.status_code == 302
    else:
        assert dismissed.status_code == 403 and raised.status_code == 403
        reread()
        assert db.session.get(MonitoringAlert, alert.id).state == AlertState.awaiting_triage


def test_a_concern_raised_from_an_alert_is_linked_quotes_it_and_shows_in_the_chronology(web, api):
    alert = an_alert(excerpt="typed: they deserve what is coming", category="Violent extremism")
    source_name, source_alert_id = alert.source.name, alert.source_alert_id
    officer = web("officer")
    answer = post(officer, f"/monitoring/{alert.id}/raise", {
        "subject.full_name": "Jo Learner", "subject.subject_type": "learner", "subject.date_of_birth-day": "2",
        "subject.date_of_birth-month": "3", "subject.date_of_birth-year": "2008",
        "note": "Jo's tutor says Jo has been withdrawn."}, f"/monitoring/{alert.id}")
    assert answer.status_code == 302
    reread()
    stored = db.session.get(MonitoringAlert, alert.id)
    assert stored.state == AlertState.concern_raised and stored.case_id is not None
    assert stored.triaged_by_id == user("officer").id and stored.triaged_at is not None
    assert answer.headers["Location"].endswith(f"/cases/{stored.case_id}") or str(stored.case_id) in \
        answer.headers["Location"]
    case = db.session.get(Case, stored.case_id)
    assert "\u201ctyped: they deserve what is coming\u201d" in case.description
    assert "Violent extremism" in case.description and "Jo's tutor says Jo has been withdrawn." in case.description
    assert case.occurred_at == alert.occurred_at and case.subject.full_name == "Jo Learner"
    assert case.subject.date_of_birth == date(2008, 3, 2) and case.reporter_id == user("officer").id
    chronology = api("officer").get(f"/api/v1/case/{case.id}/chronology").get_json()["result"]
    summaries = [item["summary"] for item in chronology]
    assert f"Raised from monitoring alert {source_name} {source_alert_id}" in summaries
    linked = next(item for item in chronology if item["kind"] == "monitoring_alert")
    assert linked["actor"] == "officer"
    assert "raise_concern_from_monitoring_alert" in actions_on("MonitoringAlert", alert.id)
    # the case page shows it in the chronology; the queue no longer offers the alert for triage
    case_page = officer.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"Raised from monitoring alert {source_name} {source_alert_id}" in text(case_page)
    alert_page = text(officer.get(f"/monitoring/{alert.id}").get_data(as_text=True))
    assert "A concern was raised from this alert" in alert_page and "Raise the concern" not in alert_page


def test_a_concern_can_be_raised_about_a_person_already_recorded(web, api):
    known = api("officer").post("/api/v1/subject/", json={"full_name": "Kim Known", "subject_type": "learner"})
    subject_id = known.get_json()["id"]
    alert = an_alert()
    officer = web("officer")
    found = officer.get(f"/monitoring/{alert.id}?find=Kim+Known").get_data(as_text=True)
    assert re.search(rf'name="subject_id"[^>]*value="{subject_id}"', found)
    answer = post(officer, f"/monitoring/{alert.id}/raise?find=Kim+Known",
                  {"subject_id": str(subject_id), "subject.full_name": "", "subject.subject_type": ""},
                  f"/monitoring/{alert.id}")
    assert answer.status_code == 302
    reread()
    assert db.session.get(Case, db.session.get(MonitoringAlert, alert.id).case_id).subject_id == subject_id


def test_a_refused_raise_says_what_to_fix_keeps_what_was_typed_and_changes_nothing(web):
    alert = an_alert()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Case)), audit_count()
    officer = web("officer")
    answer = post(officer, f"/monitoring/{alert.id}/raise", {
        "subject.full_name": "", "subject.subject_type": "learner", "note": "Typed and kept"},
        f"/monitoring/{alert.id}")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Enter the full name of the person the concern is about" in text(section(page, 'class="error-summary"',
                                                                                 "</ul>"))
    assert "Typed and kept" in section(page, 'id="raise-concern"', "</form>")
    reread()
    assert (db.session.scalar(sa.select(sa.func.count()).select_from(Case)), audit_count()) == before
    assert db.session.get(MonitoringAlert, alert.id).state == AlertState.awaiting_triage


def test_dismissing_needs_a_reason_is_audited_and_happens_once(web):
    alert = an_alert()
    officer = web("officer")
    empty = post(officer, f"/monitoring/{alert.id}/dismiss", {"reason": "  "}, f"/monitoring/{alert.id}")
    assert empty.status_code == 422
    assert "Enter why this alert needs no concern" in text(empty.get_data(as_text=True))
    done = post(officer, f"/monitoring/{alert.id}/dismiss", {"reason": "A history lesson's reading"},
                f"/monitoring/{alert.id}")
    assert done.status_code == 302
    reread()
    stored = db.session.get(MonitoringAlert, alert.id)
    assert stored.state == AlertState.dismissed and stored.dismiss_reason == "A history lesson's reading"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "MonitoringAlert",
                                                          AuditEvent.entity_id == str(alert.id),
                                                          AuditEvent.action == "dismiss_monitoring_alert"))
    assert event is not None and event.actor == "officer" and event.reason == "A history lesson's reading"
    # triaged already: both ways are refused with 409, and nothing changes
    cases_before = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    lead = web("lead")
    again = post(lead, f"/monitoring/{alert.id}/dismiss", {"reason": "Again"}, f"/monitoring/{alert.id}")
    raised = post(lead, f"/monitoring/{alert.id}/raise", {"subject.full_name": "Jo Learner",
                                                          "subject.subject_type": "learner"}, f"/monitoring/{alert.id}")
    assert again.status_code == 409 and raised.status_code == 409
    assert "This alert was triaged already: it was dismissed." in text(again.get_data(as_text=True))
    reread()
    assert db.session.get(MonitoringAlert, alert.id).dismiss_reason == "A history lesson's reading"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == cases_before


def test_an_alert_a_concern_was_raised_from_cannot_be_triaged_again(web):
    alert = an_alert()
    case = monitoring.raise_concern_from(user("officer"), alert.id,
                                         {"subject": {"full_name": "Jo Learner", "subject_type": "learner"}})
    lead = web("lead")
    again = post(lead, f"/monitoring/{alert.id}/raise", {"subject.full_name": "Someone Else",
                                                         "subject.subject_type": "learner"}, f"/monitoring/{alert.id}")
    assert again.status_code == 409
    reread()
    assert db.session.get(MonitoringAlert, alert.id).case_id == case.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEntry).where(
        CaseEntry.case_id == case.id, CaseEntry.kind == "monitoring_alert")) == 1


# --- sources: the Admin's page and the command line ---------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_only_the_admin_keeps_the_sources(web, role):
    source, _ = a_source()
    client = web(role)
    page = client.get("/monitoring/sources/")
    if role == "admin":
        assert page.status_code == 200 and source.name in page.get_data(as_text=True)
    else:
        assert page.status_code == 403 and source.name not in page.get_data(as_text=True)
        token = csrf_token(client.get("/concerns/new").get_data(as_text=True))
        assert client.post("/monitoring/sources/new", data={"name": "Sneaky", "csrf_token": token}).status_code == 403
        assert client.post(f"/monitoring/sources/{source.id}/revoke", data={"csrf_token": token}).status_code == 403
        reread()
        assert db.session.get(MonitoringSource, source.id).active


def test_the_admin_adds_a_source_sees_its_key_once_and_revokes_it(app, web):
    admin = web("admin")
    name = f"Device monitor {uuid.uuid4().hex[:6]}"
    added = post(admin, "/monitoring/sources/new", {"name": name}, "/monitoring/sources/")
    assert added.status_code == 200 and added.headers["Cache-Control"] == "no-store"
    key = re.search(r'id="key"[^>]*value="([^"]+)"', added.get_data(as_text=True))[1]
    assert send(app, key, an_alert_body()).status_code == 201
    listing = admin.get("/monitoring/sources/").get_data(as_text=True)
    assert name in listing and key not in listing  # shown once only
    reread()
    source = db.session.scalar(sa.select(MonitoringSource).where(MonitoringSource.name == name))
    duplicate = post(admin, "/monitoring/sources/new", {"name": name.upper()}, "/monitoring/sources/")
    assert duplicate.status_code == 422 and "exists already" in text(duplicate.get_data(as_text=True))
    revoked = post(admin, f"/monitoring/sources/{source.id}/revoke", {}, "/monitoring/sources/")
    assert revoked.status_code == 302
    assert send(app, key, an_alert_body()).status_code == 401


def test_the_command_line_adds_a_source_printing_its_key_last_and_revokes_it(app):
    name = f"Cli filter {uuid.uuid4().hex[:6]}"
    runner = app.test_cli_runner()
    added = runner.invoke(args=["monitoring", "add-source", name])
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    assert key.startswith(monitoring.KEY_PREFIX)
    reread()
    assert send(app, key, an_alert_body()).status_code == 201
    source = db.session.scalar(sa.select(MonitoringSource).where(MonitoringSource.name == name))
    assert source.created_by.startswith("cli:")
    twice = runner.invoke(args=["monitoring", "add-source", name])
    assert twice.exit_code != 0 and "exists already" in twice.output
    revoked = runner.invoke(args=["monitoring", "revoke-source", name])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    reread()
    assert send(app, key, an_alert_body()).status_code == 401
    assert runner.invoke(args=["monitoring", "revoke-source", name]).exit_code != 0
    assert runner.invoke(args=["monitoring", "revoke-source", "No such source"]).exit_code != 0


# --- the evidence pack's figures -----------------------------------------------------------------------------------

def test_evidence_counts_the_periods_alerts_by_severity_and_triage(app):
    source, key = a_source()
    alerts = [monitoring.receive_alert(key, an_alert_body(severity=severity))[0]
              for severity in ("high", "high", "medium", "low")]
    monitoring.dismiss(user("officer"), alerts[2].id, {"reason": "Not a concern"})
    monitoring.raise_concern_from(user("lead"), alerts[0].id,
                                  {"subject": {"full_name": "Jo Learner", "subject_type": "learner"}})
    today = date.today()
    figures = monitoring.evidence(db.session, user("lead"), today, today)
    assert figures["received"] >= 4 and figures["by_severity"]["high"] >= 2
    assert {"name": source.name, "active": True, "received": 4} in figures["sources"]
    assert figures["concern_raised"] >= 1 and figures["dismissed"] >= 1 and figures["awaiting_triage"] >= 2
    assert "Jo Learner" not in str(figures) and alerts[0].user_name not in str(figures)
    earlier = monitoring.evidence(db.session, user("governance"), today - timedelta(days=9), today - timedelta(days=8))
    assert {"name": source.name, "active": True, "received": 0} in earlier["sources"]
    with pytest.raises(Forbidden):
        monitoring.evidence(db.session, user("staff"), today, today)


def test_the_api_document_shows_the_alerts_endpoint_with_its_key_header(api):
    document = api("admin").get("/api/v1/_openapi").get_json()
    scheme = document["components"]["securitySchemes"]["monitoring_source_key"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                      "description": "The key of a monitoring source, shown once when the Admin added it."}
    operation = document["paths"]["/api/v1/monitoring/alert"]["post"]
    assert operation["security"] == [{"monitoring_source_key": []}]
    assert {"200", "201", "401", "422", "429"} <= set(operation["responses"]) and "403" not in operation["responses"]
    assert set(operation["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "source_id", "occurred_at", "user", "category", "severity", "excerpt"}
    listing = document["paths"]["/api/v1/monitoring/alert/"]["get"]
    assert listing["security"] == [{"jwt": []}, {"api_key": []}]


def test_retention_erases_the_alerts_words_with_the_case_raised_from_it(app):
    """The user and the words of an alert go with the case raised from it, its receipt's audit event included; the
    erasure's tombstone seals the rows it blanked."""
    from app.governance import retention
    from app.governance.retention import add_years
    from app.kernel import audit_verify
    from app.models import Subject
    from tests.test_retention import rows_mentioning

    words = uuid.uuid4().hex
    today = date.today()
    born = add_years(today, -25) - timedelta(days=1)  # a child then, whose records fell due yesterday
    _, key = a_source()
    alert, _ = monitoring.receive_alert(key, an_alert_body(
        user=f"user-{words}", excerpt=f"searched {words}",
        occurred_at=datetime.combine(add_years(born, 16), datetime.min.time(), tzinfo=UTC).isoformat()))
    case = monitoring.raise_concern_from(user("officer"), alert.id, {"subject": {
        "full_name": f"Person {words}", "subject_type": "learner", "date_of_birth": born.isoformat()}})
    from app.cases import use_cases as cases
    cases.transition(user("officer"), case.id, {"event": "acknowledge", "reason": "Read"})
    cases.transition(user("officer"), case.id, {"event": "close", "outcome": "no_further_action", "reason": "Done"})
    assert {"monitoring_alert", "audit_event"} <= set(rows_mentioning(words))
    differ = audit_verify.verify(db.session, records=True).records.findings
    subject_id = db.session.get(Case, case.id).subject_id
    retention.run(today)
    retention.approve(user("lead"), {"subject_ids": [subject_id], "reason": "Past the retention period in the policy"})
    retention.run(today)
    reread()
    assert db.session.get(Subject, subject_id).erased_at is not None
    assert rows_mentioning(words) == []
    assert db.session.get(MonitoringAlert, alert.id).case_id == case.id  # the row and its link stay
    assert audit_verify.verify(db.session, records=True).records.findings == differ


def test_the_api_triages_as_the_pages_do(api):
    alert, other = an_alert(), an_alert()
    officer = api("officer")
    raised = officer.post(f"/api/v1/monitoring/alert/{alert.id}/concern", json={
        "subject": {"full_name": "Sam Api", "subject_type": "learner"}, "note": "From the API"})
    assert raised.status_code == 201, raised.get_json()
    answer = raised.get_json()
    assert answer["result"]["state"] == "concern_raised" and answer["result"]["case_id"] == answer["case_id"]
    assert answer["result"]["triaged_by"] == "officer"
    case = officer.get(f"/api/v1/case/{answer['case_id']}").get_json()["result"]
    assert "The alert's words: \u201c" + alert.excerpt + "\u201d" in case["description"]
    assert "From the API" in case["description"]
    again = api("lead").post(f"/api/v1/monitoring/alert/{alert.id}/dismiss", json={"reason": "Late"})
    assert again.status_code == 409
    assert again.get_json() == {"message": "This alert was triaged already: a concern was raised from it. Nothing "
                                           "was changed.", "status": "concern_raised"}
    bad = officer.post(f"/api/v1/monitoring/alert/{other.id}/concern", json={"subject": {"full_name": ""}})
    assert bad.status_code == 422 and set(bad.get_json()["message"]) == {"subject.full_name", "subject.subject_type"}
    assert officer.post(f"/api/v1/monitoring/alert/{other.id}/dismiss", json={}).get_json() == {
        "message": {"reason": ["This field is required."]}}
    dismissed = officer.post(f"/api/v1/monitoring/alert/{other.id}/dismiss", json={"reason": "A lesson's reading"})
    assert dismissed.status_code == 200 and dismissed.get_json()["result"]["dismiss_reason"] == "A lesson's reading"
    assert officer.get(f"/api/v1/monitoring/alert/{other.id}").get_json()["result"]["state"] == "dismissed"
    assert officer.get("/api/v1/monitoring/alert/987654321").status_code == 404
