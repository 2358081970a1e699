"""The provider's Prevent risk assessment and action plan (issue 14, point 1): risks by area with likelihood, impact
and the RAG rating that follows, controls, actions with owners and due dates; the Prevent Lead keeps it (pages and
API, audited, stale changes refused), Governance and officers read it, nobody else; a sign-off keeps the assessment
as it stood, readable unchanged after later edits; overdue actions reach the reminders and the Lead's oversight;
`evidence()` gives the evidence pack its figures."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kernel.uow import unit_of_work
from app.models import AuditEvent, OutboxEmail, Rag, Risk, RiskAction, RiskReview
from app.notifications import notify
from app.risks import use_cases as risks
from app.risks.models import rag
from tests.conftest import csrf_token, make_user, user
from tests.test_pages import text

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
READERS = {"officer", "lead", "governance"}
TODAY = date.today()


def a_title() -> str:
    return f"Learners reach extremist material {uuid.uuid4().hex[:6]}"


def add_risk(**fields: Any) -> Risk:
    payload = {"area": "it_online_safety", "title": a_title(), "likelihood": 3, "impact": 4,
               "controls": "Web filtering on every college network", **fields}
    return risks.add_risk(user("lead"), payload)


def add_action(risk: Risk, due: date, owner: str = "officer", title: str = "Test the filtering alerts") -> RiskAction:
    return risks.add_action(user("lead"), risk.id, {"title": title, "owner_id": user(owner).id,
                                                    "due_date": due.isoformat()})


def counts() -> tuple[int, ...]:
    state = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                  for model in (Risk, RiskAction, RiskReview, AuditEvent))
    db.session.rollback()
    return state


def audit_of(model: str, pk: int) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == model,
                                                          AuditEvent.entity_id == str(pk))
                              .order_by(AuditEvent.seq)).all()


def form_data(client, url: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": csrf_token(client.get(url).get_data(as_text=True)), **fields}


# --- the one rule for the rating -----------------------------------------------------------------------------------

def test_the_rating_follows_from_likelihood_times_impact_in_three_bands():
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            score = likelihood * impact
            expected = Rag.green if score <= 6 else Rag.amber if score <= 12 else Rag.red
            assert rag(likelihood, impact) is expected, (likelihood, impact)
    assert (rag(2, 3), rag(2, 4), rag(3, 4), rag(3, 5), rag(5, 5)) == (Rag.green, Rag.amber, Rag.amber, Rag.red,
                                                                       Rag.red)
    for bad in ((0, 3), (6, 1), (3, 0), (3, 6)):
        with pytest.raises(ValueError):
            rag(*bad)


# --- the API, per role ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_governance_officers_and_the_lead_read_the_assessment_and_nobody_else(api, role):
    risk = add_risk()
    add_action(risk, TODAY + timedelta(days=30))
    answer = api(role).get("/api/v1/risk/")
    if role in READERS:
        assert answer.status_code == 200
        [found] = [r for r in answer.get_json()["result"] if r["id"] == risk.id]
        assert (found["area"], found["title"], found["likelihood"], found["impact"], found["score"], found["rag"]) \
            == ("it_online_safety", risk.title, 3, 4, 12, "amber")
        assert [a["title"] for a in found["actions"]] == ["Test the filtering alerts"]
        assert api(role).get("/api/v1/risk/review/").status_code == 200
    else:
        assert answer.status_code == 403
        assert risk.title not in answer.get_data(as_text=True)
        assert api(role).get("/api/v1/risk/review/").status_code == 403
    assert api(None).get("/api/v1/risk/").status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_only_the_lead_writes_and_a_refused_write_changes_nothing(api, role):
    risk = add_risk()
    action = add_action(risk, TODAY + timedelta(days=30))
    client = api(role)
    before = counts()
    answers = [
        client.post("/api/v1/risk/", json={"area": "staff_training", "title": "Staff miss the refresher",
                                           "likelihood": 2, "impact": 3, "controls": "Reminders"}),
        client.put(f"/api/v1/risk/{risk.id}", json={"area": "it_online_safety", "title": risk.title,
                                                    "likelihood": 5, "impact": 5, "controls": None}),
        client.post(f"/api/v1/risk/{risk.id}/actions", json={"title": "Brief the IT team",
                                                             "owner_id": user("officer").id,
                                                             "due_date": TODAY.isoformat()}),
        client.put(f"/api/v1/risk/action/{action.id}", json={"status": "cancelled"}),
        client.post("/api/v1/risk/review", json={"note": "Reviewed with the Board"}),
    ]
    if role == "lead":
        assert [a.status_code for a in answers] == [201, 200, 201, 200, 201]
        assert answers[0].get_json()["result"]["rag"] == "green"
        assert answers[1].get_json()["result"]["rag"] == "red"
    else:
        assert [a.status_code for a in answers] == [403] * 5
        assert counts() == before


def test_the_lead_adds_a_risk_and_is_answered_with_its_rating(api):
    answer = api("lead").post("/api/v1/risk/", json={"area": "speakers_events", "title": "A speaker is not checked",
                                                     "likelihood": 4, "impact": 5,
                                                     "controls": "Speaker requests go to the DSO"})
    assert answer.status_code == 201
    result = answer.get_json()["result"]
    assert answer.get_json()["id"] == result["id"]
    assert (result["area_label"], result["score"], result["rag"], result["actions"]) == \
        ("External speakers and events", 20, "red", [])
    [event] = audit_of("Risk", result["id"])
    assert event.action == "add_risk" and event.changes["likelihood"] == {"old": None, "new": 4}
    assert event.changes["rag"] == {"old": None, "new": "red"}


@pytest.mark.parametrize("body,field", [
    ({"likelihood": 0}, "likelihood"), ({"likelihood": 6}, "likelihood"), ({"impact": 0}, "impact"),
    ({"impact": 6}, "impact"), ({"likelihood": "3"}, "likelihood"), ({"impact": 2.5}, "impact"),
    ({"likelihood": None}, "likelihood"), ({"area": "canteen"}, "area"), ({"area": None}, "area"),
    ({"title": "  "}, "title"), ({"title": "x" * 201}, "title"), ({"rag": "green"}, "rag"),
])
def test_a_malformed_risk_is_refused_with_422_naming_the_field_and_nothing_changes(api, body, field):
    risk = add_risk()
    before = counts()
    good = {"area": "site_welfare", "title": "Prayer room misused", "likelihood": 2, "impact": 3, "controls": None}
    lead = api("lead")
    for answer in (lead.post("/api/v1/risk/", json={**good, **body}),
                   lead.put(f"/api/v1/risk/{risk.id}", json={**good, **body})):
        assert answer.status_code == 422
        assert list(answer.get_json()["message"]) == [field]
    assert counts() == before
    if field == "likelihood" and body[field] in (0, 6):
        assert answer.get_json()["message"] == {"likelihood": ["Choose a number from 1 to 5."]}
    db.session.refresh(risk)
    assert (risk.title, risk.likelihood, risk.impact) != ("Prayer room misused", 2, 3)


def test_a_change_is_audited_with_old_and_new_values_and_a_stale_one_is_refused(api):
    risk = add_risk(likelihood=2, impact=2)
    version = risk.version
    lead = api("lead")
    body = {"area": "it_online_safety", "title": risk.title, "likelihood": 4, "impact": 4,
            "controls": "Filtering, and alerts to the DSO", "version": version}
    answer = lead.put(f"/api/v1/risk/{risk.id}", json=body)
    assert answer.status_code == 200
    assert answer.get_json()["result"]["rag"] == "red"
    changed = audit_of("Risk", risk.id)[-1]
    assert changed.action == "update_risk"
    assert changed.changes["likelihood"] == {"old": 2, "new": 4}
    assert changed.changes["controls"] == {"old": "Web filtering on every college network",
                                           "new": "Filtering, and alerts to the DSO"}
    assert changed.changes["rag"] == {"old": "green", "new": "red"}
    before = counts()
    stale = lead.put(f"/api/v1/risk/{risk.id}", json={**body, "likelihood": 1})  # the version read before
    assert stale.status_code == 409 and "changed since you opened it" in stale.get_json()["message"]
    assert counts() == before
    assert lead.put("/api/v1/risk/987654321", json=body).status_code == 404
    db.session.refresh(risk)
    same = lead.put(f"/api/v1/risk/{risk.id}", json={**body, "version": risk.version})
    assert same.status_code == 200 and same.get_json()["result"]["version"] == risk.version
    assert counts() == before  # the same values again: nothing changed, nothing to audit


def test_an_action_has_an_owner_a_due_date_and_a_status_and_is_overdue_when_open_past_its_date(api):
    risk = add_risk()
    lead = api("lead")
    staff_owner = make_user("Staff", prefix="itmanager")
    answer = lead.post(f"/api/v1/risk/{risk.id}/actions", json={
        "title": "Set filtering alerts to reach the DSO", "owner_id": user(staff_owner).id,
        "due_date": (TODAY - timedelta(days=1)).isoformat()})
    assert answer.status_code == 201
    action = answer.get_json()["result"]
    assert (action["status"], action["overdue"], action["owner_id"]) == ("open", True, user(staff_owner).id)

    before = counts()
    bad = [lead.post(f"/api/v1/risk/{risk.id}/actions", json={"title": "X", "owner_id": 987654321,
                                                              "due_date": TODAY.isoformat()}),
           lead.post(f"/api/v1/risk/{risk.id}/actions", json={"title": "X", "owner_id": user("officer").id,
                                                              "due_date": "31/02/2027"}),
           lead.post(f"/api/v1/risk/{risk.id}/actions", json={"owner_id": user("officer").id,
                                                              "due_date": TODAY.isoformat()}),
           lead.put(f"/api/v1/risk/action/{action['id']}", json={"status": "done"}),
           lead.put(f"/api/v1/risk/action/{action['id']}", json={"status": "open"})]
    assert [b.status_code for b in bad] == [422] * 5
    assert [list(b.get_json()["message"]) for b in bad] == [["owner_id"], ["due_date"], ["title"],
                                                            ["completion_note"], ["status"]]
    assert lead.post("/api/v1/risk/987654321/actions", json={"title": "X", "owner_id": user("officer").id,
                                                             "due_date": TODAY.isoformat()}).status_code == 404
    assert counts() == before

    done = lead.put(f"/api/v1/risk/action/{action['id']}", json={
        "status": "done", "completion_note": "Alerts go to both DSOs", "version": action["version"]})
    assert done.status_code == 200
    assert (done.get_json()["result"]["status"], done.get_json()["result"]["overdue"]) == ("done", False)
    again = lead.put(f"/api/v1/risk/action/{action['id']}", json={"status": "cancelled"})
    assert again.status_code == 409
    stale = lead.put(f"/api/v1/risk/action/{action['id']}", json={"status": "cancelled",
                                                                  "version": action["version"]})
    assert stale.status_code == 409
    assert [e.action for e in audit_of("RiskAction", action["id"])] == ["add_risk_action", "risk_action_done"]


# --- the acceptance test: a signed-off version stays as it was -----------------------------------------------------

def test_a_signed_off_assessment_edited_afterwards_still_shows_the_signed_off_version_unchanged(api, web):
    risk = add_risk(likelihood=2, impact=3, controls="Filtering")
    action = add_action(risk, TODAY + timedelta(days=10), title="Review the filtering logs")
    title = risk.title
    lead = api("lead")
    signed = lead.post("/api/v1/risk/review", json={"note": "Reviewed with the Board on the first"})
    assert signed.status_code == 201
    review_id = signed.get_json()["id"]
    kept = signed.get_json()["result"]
    assert [e.action for e in audit_of("RiskReview", review_id)] == ["sign_off_risk_assessment"]

    # afterwards: the risk is changed, its action done, another risk added
    lead.put(f"/api/v1/risk/{risk.id}", json={"area": "regional_context", "title": "Changed afterwards",
                                              "likelihood": 5, "impact": 5, "controls": "New controls"})
    lead.put(f"/api/v1/risk/action/{action.id}", json={"status": "done", "completion_note": "Logs reviewed"})
    later = add_risk(title="Added afterwards")

    for role in ("lead", "governance", "officer"):
        [listed] = [r for r in api(role).get("/api/v1/risk/review/").get_json()["result"] if r["id"] == review_id]
        assert listed == kept
        [then] = [r for r in listed["risks"] if r["id"] == risk.id]
        assert (then["title"], then["area"], then["likelihood"], then["impact"], then["rag"], then["controls"]) == \
            (title, "it_online_safety", 2, 3, "green", "Filtering")
        assert [(a["title"], a["status"], a["completion_note"]) for a in then["actions"]] == \
            [("Review the filtering logs", "open", None)]
        assert later.id not in [r["id"] for r in listed["risks"]]
    now = [r for r in lead.get("/api/v1/risk/").get_json()["result"] if r["id"] == risk.id][0]
    assert (now["title"], now["rag"], now["actions"][0]["status"]) == ("Changed afterwards", "red", "done")

    for role in ("lead", "governance"):
        page = text(web(role).get(f"/risk/reviews/{review_id}").get_data(as_text=True))
        assert title in page and "Filtering" in page and "Green" in page
        assert "Review the filtering logs" in page and "Reviewed with the Board on the first" in page
        assert "Changed afterwards" not in page and "Added afterwards" not in page and "Logs reviewed" not in page
        current = text(web(role).get("/risk/").get_data(as_text=True))
        assert "Changed afterwards" in current and "Added afterwards" in current


def test_a_sign_off_needs_a_note_and_some_risks(api):
    lead = api("lead")
    before = counts()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Risk)) == 0
    db.session.rollback()
    empty = lead.post("/api/v1/risk/review", json={"note": "Nothing yet"})
    assert empty.status_code == 409
    add_risk()
    before = counts()
    missing = lead.post("/api/v1/risk/review", json={"note": " "})
    assert missing.status_code == 422 and list(missing.get_json()["message"]) == ["note"]
    assert counts() == before
    assert api("governance").post("/api/v1/risk/review", json={"note": "Looks fine"}).status_code == 403


# --- the pages -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_pages_open_to_readers_and_the_forms_to_the_lead_only(web, role):
    risk = add_risk()
    client = web(role)
    pages = [client.get(url) for url in ("/risk/", f"/risk/{risk.id}", "/risk/reviews/")]
    forms = [client.get(url) for url in ("/risk/new", f"/risk/{risk.id}/edit")]
    if role in READERS:
        assert [p.status_code for p in pages] == [200, 200, 200]
        assert risk.title in pages[0].get_data(as_text=True)
        assert ("Add a risk" in pages[0].get_data(as_text=True)) == (role == "lead")
        assert ("Add an action" in pages[1].get_data(as_text=True)) == (role == "lead")
    else:
        assert [p.status_code for p in pages] == [403, 403, 403]
        assert all(risk.title not in p.get_data(as_text=True) for p in pages)
    assert [f.status_code for f in forms] == ([200, 200] if role == "lead" else [403, 403])


def test_the_lead_adds_a_risk_on_the_page_and_a_mistake_keeps_what_was_typed(web):
    lead = web("lead")
    before = counts()
    wrong = lead.post("/risk/new", data=form_data(lead, "/risk/new", area="employers", title="Employer unaware",
                                                   likelihood="6", controls="Awareness emails"))
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Choose how likely it is, 1 to 5" in page and "Choose how bad it would be" in page
    assert 'value="Employer unaware"' in page and "Awareness emails" in page
    assert 'value="employers" checked' in page
    assert counts() == before

    done = lead.post("/risk/new", data=form_data(lead, "/risk/new", area="employers", title="Employer unaware",
                                                  likelihood="3", impact="5", controls="Awareness emails"))
    assert done.status_code == 302
    risk = db.session.scalar(sa.select(Risk).where(Risk.title == "Employer unaware"))
    assert (risk.likelihood, risk.impact, risk.rag) == (3, 5, Rag.red)
    shown = text(lead.get(done.location).get_data(as_text=True))
    assert "Its rating is red" in shown and "Employers of apprentices" in shown


def test_a_stale_edit_on_the_page_is_refused_and_keeps_what_was_typed(web, api):
    risk = add_risk()
    lead = web("lead")
    form = form_data(lead, f"/risk/{risk.id}/edit", area="it_online_safety", title="My new wording",
                     likelihood="2", impact="2", controls="Mine", version=str(risk.version))
    api("lead").put(f"/api/v1/risk/{risk.id}", json={"area": "it_online_safety", "title": "Someone else's",
                                                     "likelihood": 4, "impact": 4, "controls": None})
    refused = lead.post(f"/risk/{risk.id}/edit", data=form)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "changed since you opened it" in page and 'value="My new wording"' in page
    db.session.refresh(risk)
    assert risk.title == "Someone else's"


def test_actions_on_the_page_added_completed_and_refused_with_what_was_typed(web):
    risk = add_risk()
    lead = web("lead")
    url = f"/risk/{risk.id}"
    wrong = lead.post(f"{url}/actions", data=form_data(lead, url, title="Brief the governors",
                                                       owner_id=str(user("governance").id), due_date="31/02/2027"))
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "The due date must be a real date" in page and 'value="Brief the governors"' in page
    added = lead.post(f"{url}/actions", data=form_data(lead, url, title="Brief the governors",
                                                       owner_id=str(user("governance").id), due_date="1/3/2027"))
    assert added.status_code == 302
    action = db.session.scalar(sa.select(RiskAction).where(RiskAction.risk_id == risk.id))
    assert (action.due_date, action.owner_id) == (date(2027, 3, 1), user("governance").id)
    no_note = lead.post(f"/risk/action/{action.id}", data=form_data(lead, url, status="done",
                                                                    version=str(action.version)))
    assert no_note.status_code == 422 and "Enter what was done" in no_note.get_data(as_text=True)
    done = lead.post(f"/risk/action/{action.id}", data=form_data(lead, url, status="done",
                                                                 completion_note="Briefed on 1 March",
                                                                 version=str(action.version)))
    assert done.status_code == 302
    db.session.refresh(action)
    assert (action.status.value, action.completion_note) == ("done", "Briefed on 1 March")


def test_the_lead_signs_off_on_the_page(web):
    add_risk()
    lead = web("lead")
    empty = lead.post("/risk/reviews/", data=form_data(lead, "/risk/reviews/", note=""))
    assert empty.status_code == 422 and "Enter a note of the review" in empty.get_data(as_text=True)
    done = lead.post("/risk/reviews/", data=form_data(lead, "/risk/reviews/", note="Board review, December"))
    assert done.status_code == 302
    listing = text(lead.get("/risk/reviews/").get_data(as_text=True))
    assert "Version 1" in listing and "Board review, December" in listing
    assert "Last signed off on" in text(lead.get("/risk/").get_data(as_text=True))
    governance = web("governance")
    assert governance.post("/risk/reviews/", data=form_data(governance, "/risk/reviews/",
                                                            note="Mine")).status_code == 403


# --- reminders and oversight ---------------------------------------------------------------------------------------

def test_an_overdue_action_reminds_its_owner_once_and_shows_in_the_lead_s_digest_and_oversight(web):
    risk = add_risk()
    owner = make_user("Staff", prefix="itmanager")
    action = add_action(risk, TODAY + timedelta(days=5), owner=owner, title="Switch on the filtering alerts")
    due = action.due_date

    def emails(kind: str) -> list[OutboxEmail]:
        return db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.kind == kind,
                                                               OutboxEmail.dedupe_key.contains(str(action.id)))
                                  ).all()

    with unit_of_work() as session:
        notify.run_reminders(session, due)  # due today: not overdue yet
    assert emails("risk_action_overdue") == []
    for day in (due + timedelta(days=1), due + timedelta(days=2)):
        with unit_of_work() as session:
            notify.run_reminders(session, day)
    [email] = emails("risk_action_overdue")
    assert email.recipient_id == user(owner).id
    assert "Switch on the filtering alerts" in email.body and "Tell the Prevent Lead" in email.body
    digest = db.session.scalar(sa.select(OutboxEmail).where(
        OutboxEmail.kind == "digest", OutboxEmail.recipient_id == user("lead").id,
        OutboxEmail.dedupe_key == f"digest:{(due + timedelta(days=1)).isoformat()}:{user('lead').id}"))
    assert "Overdue risk assessment action" in digest.body and "Switch on the filtering alerts" in digest.body
    officer_digest = db.session.scalar(sa.select(OutboxEmail).where(
        OutboxEmail.kind == "digest", OutboxEmail.recipient_id == user("officer").id,
        OutboxEmail.dedupe_key == f"digest:{(due + timedelta(days=1)).isoformat()}:{user('officer').id}"))
    assert officer_digest is None or "Overdue risk assessment action" not in officer_digest.body
    db.session.rollback()

    late = add_action(risk, TODAY - timedelta(days=3), title="Brief the Board on filtering")
    oversight = text(web("lead").get("/oversight/").get_data(as_text=True))
    assert "Risk assessment: overdue actions (1)" in oversight and late.title in oversight
    assert "overdue" in text(web("lead").get(f"/risk/{risk.id}").get_data(as_text=True))


# --- for the evidence pack ----------------------------------------------------------------------------------------

def test_evidence_gives_the_risks_their_ratings_the_plan_s_status_and_the_last_sign_off(api):
    red = add_risk(likelihood=5, impact=4, title="Red one")
    add_risk(likelihood=1, impact=2, title="Green one", area="leadership_partnership")
    add_action(red, TODAY - timedelta(days=2), title="Late")
    add_action(red, TODAY + timedelta(days=2), title="Soon")
    done = add_action(red, TODAY, title="Finished")
    risks.update_action(user("lead"), done.id, {"status": "done", "completion_note": "Done"})
    start, end = TODAY - timedelta(days=30), TODAY + timedelta(days=30)
    assert risks.evidence(db.session, user("governance"), start, end)["last_sign_off"] is None
    api("lead").post("/api/v1/risk/review", json={"note": "Signed"})

    pack = risks.evidence(db.session, user("governance"), start, end)
    assert [(r["title"], r["rag"]) for r in pack["risks"]] == [("Green one", "green"), ("Red one", "red")]
    assert pack["by_rag"] == {"red": 1, "amber": 0, "green": 1}
    assert pack["actions"] == {"open": 2, "overdue": 1, "done": 1, "cancelled": 0, "due_in_period": 3,
                               "done_in_period": 1}
    assert pack["last_sign_off"]["number"] == 1 and pack["last_sign_off"]["risks"] == 2
    assert pack["sign_offs_in_period"] == 1
    assert user("officer").first_name not in str(pack)  # no owner's name
    for role in ("staff", "director", "admin"):
        with pytest.raises(risks.Forbidden):
            risks.evidence(db.session, user(role), start, end)
    with pytest.raises(risks.InvalidData):
        risks.evidence(db.session, user("lead"), end, start)
