"""Subcontracted provision (issue 14, point 6b): the Prevent Lead keeps subcontractors (pages, audited); officers,
the Lead and Governance read them (page and API); their staff on the staff list give compliance per subcontractor;
a concern about a subcontractor's learner names the subcontractor; `evidence()` counts them."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.cases import use_cases as cases
from app.extensions import db
from app.kernel.errors import InvalidData
from app.models import AuditEvent, Case, Subcontractor
from app.subcontractors import use_cases as subcontractors
from app.training import use_cases as training
from app.training.evidence import evidence
from tests.conftest import concern_payload, csrf_token, user
from tests.test_pages import text
from tests.test_training import ELEARNING, add_person, import_completions

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
READERS = {"officer", "lead", "governance"}


def a_name() -> str:
    return f"Training Partner {uuid.uuid4().hex[:6]}"


def add(**fields: Any) -> Subcontractor:
    return subcontractors.add_subcontractor(user("lead"), {
        "name": a_name(), "contact_name": "Pat Example", "contact_email": "prevent@partner.example",
        "contact_phone": "0161 000 0002", "programmes": "Level 2 Care\nLevel 3 Business", **fields})


def form_data(client, url: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": csrf_token(client.get(url).get_data(as_text=True)), **fields}


def actions_on(subcontractor_id: int) -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "Subcontractor", AuditEvent.entity_id == str(subcontractor_id))
        .order_by(AuditEvent.seq)).all()


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Subcontractor))


# --- the API ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_officers_the_lead_and_governance_list_subcontractors_and_no_other_role(api, role):
    partner = add()
    answer = api(role).get("/api/v1/subcontractor/")
    if role in READERS:
        assert answer.status_code == 200
        found = next(s for s in answer.get_json()["result"] if s["id"] == partner.id)
        assert found == {"id": partner.id, "name": partner.name, "contact_name": "Pat Example",
                         "contact_email": "prevent@partner.example", "contact_phone": "0161 000 0002",
                         "programmes": ["Level 2 Care", "Level 3 Business"], "active": True}
    else:
        assert answer.status_code == 403 and partner.name not in answer.get_data(as_text=True)


def test_signed_out_callers_get_401_and_a_bad_retired_flag_422(api):
    assert api(None).get("/api/v1/subcontractor/").status_code == 401
    bad = api("officer").get("/api/v1/subcontractor/?retired=perhaps")
    assert bad.status_code == 422 and "retired" in bad.get_json()["message"]


def test_retired_subcontractors_are_listed_only_when_asked_for(api):
    partner = add()
    subcontractors.set_in_use(user("lead"), partner.id, False)
    ids = [s["id"] for s in api("officer").get("/api/v1/subcontractor/").get_json()["result"]]
    assert partner.id not in ids
    everyone = api("officer").get("/api/v1/subcontractor/?retired=true").get_json()["result"]
    assert {"id": partner.id, "active": False} == {k: v for k, v in next(
        s for s in everyone if s["id"] == partner.id).items() if k in ("id", "active")}
    assert partner.id not in [s.id for s in subcontractors.all_subcontractors(db.session)]  # for the risk area


# --- the Lead's pages ---------------------------------------------------------------------------------------------

def test_the_lead_adds_changes_retires_and_restores_a_subcontractor_each_audited(web):
    lead = web("lead")
    name = a_name()
    response = lead.post("/subcontractors/new", data=form_data(
        lead, "/subcontractors/new", name=f"  {name} ", contact_name="Sam Contact",
        contact_email="sam@partner.example", contact_phone="0161 000 0003", programmes="Care\n\nCare\nRetail"))
    assert response.status_code == 302
    partner = db.session.scalar(sa.select(Subcontractor).where(Subcontractor.name == name))
    assert partner.programme_list == ["Care", "Retail"]
    url = f"/subcontractors/{partner.id}/edit"
    stale = form_data(lead, url, name="Stale name", version=str(partner.version))
    assert lead.post(url, data=form_data(lead, url, name=name, contact_name="New Contact",
                                         version=str(partner.version))).status_code == 302
    again = lead.post(url, data=stale)
    assert again.status_code == 409 and "Stale name" in again.get_data(as_text=True)
    assert lead.post(f"/subcontractors/{partner.id}/retire", data=form_data(lead, "/subcontractors/")).status_code \
        == 302
    page = text(lead.get("/subcontractors/").get_data(as_text=True))
    assert "Retired subcontractors" in page and name in page
    assert lead.post(f"/subcontractors/{partner.id}/restore", data=form_data(lead, "/subcontractors/")).status_code \
        == 302
    assert actions_on(partner.id) == ["add_subcontractor", "update_subcontractor", "retire_subcontractor",
                                      "restore_subcontractor"]


def test_a_refused_form_says_what_to_fix_keeps_what_was_typed_and_adds_nothing(web):
    lead = web("lead")
    taken = add()
    before = count()
    for fields, message in (({"name": "", "programmes": "Typed programme"}, "Enter the subcontractor's name"),
                            ({"name": a_name(), "contact_email": "not an address"}, "Enter an email address"),
                            ({"name": taken.name.upper()}, "A subcontractor with this name is listed already"),
                            ({"name": "x" * 201}, "200")):
        response = lead.post("/subcontractors/new", data=form_data(lead, "/subcontractors/new", **fields))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in text(page) and 'class="error-summary"' in page
        if "programmes" in fields:
            assert "Typed programme" in page
    assert count() == before
    with pytest.raises(InvalidData) as refused:
        subcontractors.add_subcontractor(user("lead"), {"name": " ", "contact_email": ["x"]})
    assert set(refused.value.errors) >= {"name", "contact_email"}


@pytest.mark.parametrize("role", ROLES)
def test_readers_see_the_page_and_only_the_lead_keeps_it(web, role):
    partner = add()
    client = web(role)
    page = client.get("/subcontractors/")
    assert page.status_code == (200 if role in READERS else 403)
    if role in READERS:
        assert partner.name in page.get_data(as_text=True)
        assert ("/subcontractors/new" in page.get_data(as_text=True)) == (role == "lead")
    token = csrf_token(client.get("/concerns/new").get_data(as_text=True))
    writes = [client.get("/subcontractors/new"), client.get(f"/subcontractors/{partner.id}/edit"),
              client.post("/subcontractors/new", data={"csrf_token": token, "name": a_name()}),
              client.post(f"/subcontractors/{partner.id}/retire", data={"csrf_token": token})]
    assert [w.status_code for w in writes] == ([200, 200, 302, 302] if role == "lead" else [403] * 4)


# --- concerns about their learners ------------------------------------------------------------------------------

def test_a_concern_about_a_subcontractors_learner_names_the_subcontractor(api):
    partner = add()
    payload = concern_payload(subject={"full_name": "Learner Of Partner", "subject_type": "subcontractor_learner",
                                       "subcontractor_id": partner.id})
    answer = api("staff").post("/api/v1/case/", json=payload)
    assert answer.status_code == 201, answer.get_json()
    case = db.session.get(Case, answer.get_json()["id"])
    assert case.subject.subcontractor_id == partner.id
    officer_view = api("officer").get(f"/api/v1/case/{case.id}").get_json()["result"]
    assert officer_view["subject"]["subcontractor_id"] == partner.id
    # Another kind of subject names no subcontractor, whatever the form sent.
    learner = cases.raise_concern(user("staff"), concern_payload(subject={
        "full_name": "Own Learner", "subject_type": "learner", "subcontractor_id": partner.id}))
    assert learner.subject.subcontractor_id is None


@pytest.mark.parametrize("which", ["unknown", "retired", "text"])
def test_a_concern_naming_no_such_subcontractor_is_refused_and_nothing_is_stored(api, which):
    partner = add()
    if which == "retired":
        subcontractors.set_in_use(user("lead"), partner.id, False)
    chosen = {"unknown": 999_999, "retired": partner.id, "text": "the one in town"}[which]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    answer = api("staff").post("/api/v1/case/", json=concern_payload(subject={
        "full_name": "Someone", "subject_type": "subcontractor_learner", "subcontractor_id": chosen}))
    assert answer.status_code == 422
    assert "subcontractor_id" in str(answer.get_json()["message"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == before


def test_the_concern_form_offers_the_subcontractors_in_use(web):
    partner, retired = add(), add()
    subcontractors.set_in_use(user("lead"), retired.id, False)
    page = web("staff").get("/concerns/new").get_data(as_text=True)
    assert 'id="subcontractor-choice"' in page and partner.name in page and retired.name not in page
    assert "Which subcontractor?" in text(page)


# --- their staff ----------------------------------------------------------------------------------------------

def test_compliance_is_shown_per_subcontractor_from_the_staff_list(api, web):
    partner = add()
    trained, untrained = add_person(subcontractor_id=partner.id), add_person()
    training.update_staff(user("lead"), untrained.id, {"full_name": untrained.full_name,
                                                       "employee_ref": untrained.employee_ref,
                                                       "subcontractor_id": str(partner.id), "active": True})
    import_completions(f"{trained.employee_ref},{ELEARNING},{(date.today() - timedelta(days=40)).isoformat()}")
    for role in ("officer", "lead", "governance"):
        body = api(role).get("/api/v1/training_record/compliance").get_json()["result"]
        figures = next(s for s in body["subcontractors"] if s["subcontractor"] == partner.name)
        assert (figures["active"], figures["current"], figures["percent"]) == (2, 1, 50.0)
    page = web("lead").get("/training/compliance/").get_data(as_text=True)
    assert "Subcontractors&#39; staff" in page or "Subcontractors' staff" in page
    with pytest.raises(InvalidData) as refused:
        add_person(subcontractor_id=999_999)
    assert "subcontractor_id" in refused.value.errors


def test_evidence_counts_subcontractors_and_concerns_about_their_learners_in_the_period():
    today = date.today()
    before = evidence(db.session, user("lead"), today - timedelta(days=7), today)
    partner = add()
    cases.raise_concern(user("staff"), concern_payload(subject={
        "full_name": "Partner Learner", "subject_type": "subcontractor_learner", "subcontractor_id": partner.id}))
    cases.raise_concern(user("staff"), concern_payload())  # a learner of our own: not counted
    after = evidence(db.session, user("governance"), today - timedelta(days=7), today)
    assert after["subcontractors"]["in_use"] == before["subcontractors"]["in_use"] + 1
    assert after["subcontractor_learner_concerns"] == before["subcontractor_learner_concerns"] + 1
    assert "Partner Learner" not in str(after)
    long_ago = evidence(db.session, user("lead"), date(2000, 1, 1), date(2000, 12, 31))
    assert long_ago["subcontractor_learner_concerns"] == 0
    assert next(s for s in after["training"]["subcontractors"] if s["subcontractor"] == partner.name)["active"] == 0
