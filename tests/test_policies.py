"""Policies read (issue 14, point 4): the register with versions, owners and review dates; staff confirm "I have read
version X" (their own confirmations only, audited, per version); a new version asks everyone again; compliance per
team beside training compliance, figures only for Governance; the evidence pack's figures."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kernel.errors import Forbidden
from app.models import AuditEvent, Policy, PolicyConfirmation, StaffMember
from app.policies import use_cases as policies
from app.seed import POLICIES
from app.training import use_cases as training
from tests.conftest import csrf_token, user
from tests.factories import make_user
from tests.test_pages import text

pytestmark = pytest.mark.usefixtures("ctx")

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
COMPLIANCE_READERS = {"officer", "lead", "governance"}
TODAY = date.today().isoformat()


def policy(name: str) -> Policy:
    return db.session.scalar(sa.select(Policy).where(Policy.name == name))


def prevent() -> Policy:
    return policy(policies.PREVENT_POLICY)


def new_version(target: Policy, label: str | None = None) -> str:
    label = label or f"v{uuid.uuid4().hex[:6]}"
    policies.add_version(user("lead"), target.id, {"label": label, "owner": "Prevent Lead", "published_on": TODAY,
                                                   "next_review_on": "2099-12-31", "summary": "Section 4 rewritten"})
    return label


def mine(client, policy_id: int) -> dict[str, Any]:
    answer = client.get("/api/v1/policy/")
    assert answer.status_code == 200
    return next(p for p in answer.get_json()["result"] if p["id"] == policy_id)


def confirmations() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PolicyConfirmation))


# --- the register, per role -------------------------------------------------------------------------------------

def test_the_seeded_register_holds_the_four_policies_with_owners_and_review_dates():
    names = [p.name for p in policies.register(db.session, user("staff"))]
    assert names[:4] == [seeded[0] for seeded in POLICIES]
    assert prevent().applies_to_all and prevent().current.owner == "Prevent Lead"
    speakers = policy("External speakers and events policy")
    assert not speakers.applies_to_all and "Programme Director" in speakers.role_list


@pytest.mark.parametrize("role", ROLES)
def test_every_employee_reads_the_register_with_the_current_version_and_their_own_confirmation(api, role):
    answer = api(role).get("/api/v1/policy/")
    assert answer.status_code == 200
    listed = {p["name"]: p for p in answer.get_json()["result"]}
    current = listed[policies.PREVENT_POLICY]
    assert current["applies_to_me"] is True  # the Prevent policy applies to everyone
    assert set(current["current_version"]) == {"version", "owner", "published_on", "next_review_on", "summary",
                                               "document_url"}
    # the speakers policy applies to the roles that organise or check events only
    assert listed["External speakers and events policy"]["applies_to_me"] is (role in {"officer", "lead", "director"})


def test_signed_out_callers_get_401(api):
    assert api(None).get("/api/v1/policy/").status_code == 401
    assert api(None).post(f"/api/v1/policy/{prevent().id}/confirm", json={"version": "1"}).status_code == 401
    assert api(None).get("/api/v1/policy/compliance").status_code == 401


# --- confirming -------------------------------------------------------------------------------------------------

def test_staff_confirm_the_current_version_once_audited_and_see_only_their_own(api):
    target = prevent()
    label = new_version(target)
    staff = api("staff")
    assert mine(staff, target.id)["confirmed"] is False
    answer = staff.post(f"/api/v1/policy/{target.id}/confirm", json={"version": label})
    assert answer.status_code == 200
    assert answer.get_json()["result"]["confirmed"] is True and answer.get_json()["result"]["confirmed_at"]
    before = confirmations()
    assert staff.post(f"/api/v1/policy/{target.id}/confirm", json={"version": label}).status_code == 200
    assert confirmations() == before  # again: nothing new
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "confirm_policy_read")
                               .order_by(AuditEvent.seq.desc())).first()
    assert event.actor == "staff" and event.changes["version"]["new"] == label
    # another member of staff sees their own confirmation only: not staff's
    assert mine(api("officer"), target.id)["confirmed"] is False


def test_a_new_version_asks_everyone_again_and_an_old_version_is_409(api):
    target = prevent()
    first = new_version(target)
    staff = api("staff")
    assert staff.post(f"/api/v1/policy/{target.id}/confirm", json={"version": first}).status_code == 200
    second = new_version(target)
    now = mine(staff, target.id)
    assert now["confirmed"] is False and now["confirmed_earlier_version"] == first
    assert now["current_version"]["version"] == second
    before = confirmations()
    stale = staff.post(f"/api/v1/policy/{target.id}/confirm", json={"version": first})
    assert stale.status_code == 409 and f"version {second} is" in stale.get_json()["message"]
    assert confirmations() == before
    assert staff.post(f"/api/v1/policy/{target.id}/confirm", json={"version": second}).status_code == 200


def test_a_malformed_confirmation_is_422_and_changes_nothing(api):
    target = prevent()
    before = confirmations()
    for body, field in (({}, "version"), ({"version": ""}, "version"), ({"version": 4}, "version"),
                        ({"version": target.current.label, "user_id": 1}, "user_id")):
        answer = api("staff").post(f"/api/v1/policy/{target.id}/confirm", json=body)
        assert answer.status_code == 422, body
        assert list(answer.get_json()["message"]) == [field]
    assert api("staff").post("/api/v1/policy/987654321/confirm", json={"version": "1"}).status_code == 404
    assert confirmations() == before


# --- the Lead's register ----------------------------------------------------------------------------------------

def test_only_the_lead_adds_a_version_and_its_rules_are_checked():
    target = prevent()
    for role in ("staff", "officer", "director", "governance", "admin"):
        with pytest.raises(Forbidden):
            policies.add_version(user(role), target.id, {"label": "9", "owner": "x", "published_on": TODAY,
                                                         "next_review_on": "2099-01-01"})
    from app.kernel.errors import InvalidData
    with pytest.raises(InvalidData) as refused:
        policies.add_version(user("lead"), target.id, {"label": target.current.label, "owner": "",
                                                       "published_on": TODAY, "next_review_on": TODAY,
                                                       "document_url": "javascript:alert(1)"})
    assert set(refused.value.errors) == {"label", "owner", "next_review_on", "document_url"}


def test_the_prevent_policy_applies_to_everyone_and_others_to_roles_or_teams(api):
    from app.kernel.errors import InvalidData
    with pytest.raises(InvalidData) as refused:
        policies.set_applies(user("lead"), prevent().id, {"applies_to_all": False, "roles": "Staff"})
    assert refused.value.errors == {"applies_to_all": [policies.EVERYONE_MESSAGE]}
    online = policy("IT and online safety policy")
    with pytest.raises(InvalidData) as refused:
        policies.set_applies(user("lead"), online.id, {"applies_to_all": False, "roles": "Wizard"})
    assert list(refused.value.errors) == ["roles"]
    team = f"Team {uuid.uuid4().hex[:6]}"
    policies.set_applies(user("lead"), online.id, {"applies_to_all": False, "teams": team})
    assert mine(api("staff"), online.id)["applies_to_me"] is False
    staff = training.own_staff(db.session, user("staff")) or _on_staff_list(user("staff"))
    training.update_staff(user("lead"), staff.id, {"full_name": staff.full_name, "team": team, "active": True})
    assert mine(api("staff"), online.id)["applies_to_me"] is True


def _on_staff_list(person) -> StaffMember:
    training.sync_staff_with_sign_ins(user("lead"))
    return training.own_staff(db.session, person)


# --- compliance -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_compliance_for_officers_the_lead_and_governance_names_for_officers_and_the_lead(api, role):
    answer = api(role).get("/api/v1/policy/compliance")
    if role not in COMPLIANCE_READERS:
        assert answer.status_code == 403
        return
    assert answer.status_code == 200
    result = answer.get_json()["result"]
    assert {"as_of", "overall", "teams", "policies"} <= set(result)
    assert ("not_read" in result) is (role != "governance")


def test_compliance_per_team_counts_the_current_versions_that_apply():
    name = make_user("Staff", prefix="reader")
    person = _on_staff_list(user(name))
    team = f"Team {uuid.uuid4().hex[:6]}"
    training.update_staff(user("lead"), person.id, {"full_name": person.full_name, "team": team, "active": True})

    def figures():
        result = policies.compliance(db.session, user("lead"))
        group = next(t for t in result.teams if t.label == team)
        missing = next((row.policies for row in result.outstanding if row.staff.id == person.id), [])
        return group.active, group.up_to_date, missing

    applying = [p for p in policies.register(db.session, user(name))
                if policies.applies(p, {"Staff"}, team)]
    assert figures() == (1, 0, [p.name for p in applying])
    for p in applying:
        policies.confirm(user(name), p.id, {"version": p.current.label})
    assert figures() == (1, 1, [])
    new_version(prevent())  # a new version: asked again
    assert figures() == (1, 0, [policies.PREVENT_POLICY])
    governance = policies.compliance(db.session, user("governance"))
    assert governance.outstanding is None


def test_the_evidence_figures_name_no_one():
    start, end = date.today() - timedelta(days=30), date.today()
    label = new_version(prevent())
    policies.confirm(user("staff"), prevent().id, {"version": label})
    figures = policies.evidence(db.session, user("lead"), start, end)
    assert figures["confirmations_in_period"] >= 1
    assert any(v["version"] == label for v in figures["versions_in_period"])
    assert {p["policy"] for p in figures["policies"]} >= {seeded[0] for seeded in POLICIES}
    assert "not_read" not in figures and "Sid" not in str(figures)
    with pytest.raises(Forbidden):
        policies.evidence(db.session, user("staff"), start, end)


# --- pages ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_my_policies_page_for_everyone_the_register_for_the_lead(web, role):
    client = web(role)
    page = client.get("/policies/mine")
    assert page.status_code == 200 and policies.PREVENT_POLICY in text(page.get_data(as_text=True))
    assert client.get("/policies/register/").status_code == (200 if role == "lead" else 403)
    assert client.get(f"/policies/register/{prevent().id}").status_code == (200 if role == "lead" else 403)
    compliance = client.get("/policies/compliance/")
    assert compliance.status_code == (200 if role in COMPLIANCE_READERS else 403)
    if role in COMPLIANCE_READERS:
        assert ("Not yet read" in text(compliance.get_data(as_text=True))) is (role != "governance")


def test_confirming_on_the_page_needs_the_box_ticked(web):
    target = prevent()
    label = new_version(target)
    staff = web("staff")
    token = csrf_token(staff.get("/policies/mine").get_data(as_text=True))
    before = confirmations()
    staff.post(f"/policies/{target.id}/confirm", data={"csrf_token": token, "version": label})
    assert confirmations() == before
    answer = staff.post(f"/policies/{target.id}/confirm", data={"csrf_token": token, "version": label, "read": "yes"})
    assert answer.status_code == 302 and confirmations() == before + 1
    page = text(staff.get("/policies/mine").get_data(as_text=True))
    assert f"You confirmed reading version {label}" in page


def test_the_lead_adds_a_version_on_the_page_and_a_refused_form_keeps_what_was_typed(web):
    target = prevent()
    lead = web("lead")
    url = f"/policies/register/{target.id}"
    token = csrf_token(lead.get(url).get_data(as_text=True))
    refused = lead.post(f"{url}/version", data={"csrf_token": token, "label": "", "owner": "Typed owner",
                                                "published_on": "31/2/2026", "next_review_on": "1/9/2027"})
    assert refused.status_code == 422
    shown = text(refused.get_data(as_text=True))
    assert "Enter the version, such as 4.1" in shown and "must be a real date" in shown
    assert 'value="Typed owner"' in refused.get_data(as_text=True)
    added = lead.post(f"{url}/version", data={"csrf_token": token, "label": "99.1", "owner": "Prevent Lead",
                                              "published_on": "1/12/2026", "next_review_on": "30/11/2027"})
    assert added.status_code == 302
    db.session.expire_all()
    assert prevent().current.label == "99.1" and prevent().current.next_review_on == date(2027, 11, 30)
    applies = lead.post(f"/policies/register/{policy('IT and online safety policy').id}/applies",
                        data={"csrf_token": token, "roles": ["Staff", "Programme Director"], "teams": ""})
    assert applies.status_code == 302
    db.session.expire_all()
    assert policy("IT and online safety policy").role_list == ["Staff", "Programme Director"]
