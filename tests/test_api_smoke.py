"""The pathway end to end through the API, as an officer and the Prevent Lead would take it."""
from datetime import date

from dateutil.relativedelta import relativedelta

from tests.conftest import concern_payload


def test_full_pathway_through_the_api(api):
    staff, officer, lead = api("staff"), api("officer"), api("lead")
    types = staff.get("/api/v1/reference/concern_types").get_json()["result"]
    indicators = staff.get("/api/v1/reference/indicators").get_json()["result"]
    assert {i["kind"] for i in indicators} == {"contributory_factor", "vulnerability", "indicator"}
    created = staff.post("/api/v1/case/", json=concern_payload(
        concern_type_id=types[0]["id"], indicator_ids=[indicators[0]["id"], indicators[-1]["id"]]))
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    assert created.get_json()["result"]["status"] == "reported"
    assert created.get_json()["result"]["reference"].startswith("PC-")

    steps = [
        ("acknowledge", {}, "under_review"),
        ("refer_to_police", {"referral_date": "2026-11-20", "subject_informed": "yes"}, "referred_to_police"),
        ("record_gateway_outcome", {"outcome": "channel", "decided_on": "2026-11-21"}, "channel_screening"),
        ("schedule_panel", {"panel_date": "2026-11-22", "local_authority": "Somewhere Council"}, "channel_panel"),
        ("record_panel_decision", {"decision": "adopted", "consent": "given", "consent_by": "subject"},
         "channel_support"),
        # Support ended 13 months ago (recorded late): both post-exit reviews are open to record.
        ("exit_support", {"exit_date": (date.today() - relativedelta(months=13)).isoformat(),
                          "exit_reason": "Plan done"}, "post_exit_review"),
        ("record_review", {"review": "6_months", "outcome_note": "Fine"}, "post_exit_review"),
        ("record_review", {"review": "12_months", "outcome_note": "Fine"}, "closed"),
    ]
    version = officer.get(f"/api/v1/case/{case_id}").get_json()["result"]["version"]
    for event, data, expected in steps:
        response = officer.post(f"/api/v1/case/{case_id}/transition",
                                json={"event": event, "reason": f"why {event}", "version": version, **data})
        assert response.status_code == 200, (event, response.get_json())
        assert response.get_json()["result"]["status"] == expected
        version = response.get_json()["result"]["version"]
    assert officer.post(f"/api/v1/case/{case_id}/transition",
                        json={"event": "reopen", "reason": "new information"}).status_code == 403
    reopened = lead.post(f"/api/v1/case/{case_id}/transition", json={"event": "reopen", "reason": "new information"})
    assert reopened.get_json()["result"]["status"] == "under_review"

    chronology = officer.get(f"/api/v1/case/{case_id}/chronology").get_json()["result"]
    assert [e["reason"] for e in chronology if e["kind"] == "transition"] == \
        [f"why {event}" for event, _, _ in steps] + ["new information"]
    trail = lead.get(f"/api/v1/case/{case_id}/audit").get_json()["result"]
    assert [e["action"] for e in trail if e["to_status"]][1:] == [event for event, _, _ in steps] + ["reopen"]
    verified = lead.get("/api/v1/audit/verify").get_json()
    assert verified["ok"] is True and verified["first_bad_seq"] is None


def test_officers_find_cases_by_reference_or_name(api, ctx):
    from tests.conftest import make_case
    case_id = make_case(subject={"full_name": "Findable Person-Smith", "subject_type": "learner"})
    officer = api("officer")
    reference = officer.get(f"/api/v1/case/{case_id}").get_json()["result"]["reference"]
    for text in (reference, reference.lower(), "findable  PERSON"):
        found = officer.get(f"/api/v1/case/?q=(filters:!((col:search,value:'{text}')))").get_json()
        assert found["ids"] == [case_id], text
    assert api("staff2").get(f"/api/v1/case/?q=(filters:!((col:search,value:'{reference}')))").get_json()["ids"] == []
