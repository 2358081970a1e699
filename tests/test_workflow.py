"""The workflow table, pure: every (state, event) pair, without a database."""
import pytest

from app.kernel import workflow
from app.kernel.errors import InvalidData, NotAllowed
from app.models import CaseStatus as S
from app.models import ClosureOutcome as O
from tests.conftest import EVENT_DATA

# The domain's table (docs/domain.md), written out independently of app/kernel/workflow.py: (event, from) -> to.
EXPECTED = {
    ("acknowledge", S.reported): S.under_review,
    ("close", S.under_review): S.closed,
    ("refer_to_police", S.under_review): S.referred_to_police,
    ("record_gateway_outcome", S.referred_to_police): S.channel_screening,
    ("close_police_led", S.police_led): S.closed,
    ("schedule_panel", S.channel_screening): S.channel_panel,
    ("screen_out", S.channel_screening): S.closed,
    ("record_panel_decision", S.channel_panel): S.channel_support,
    ("exit_support", S.channel_support): S.post_exit_review,
    ("record_review", S.post_exit_review): S.post_exit_review,
    ("reopen", S.closed): S.under_review,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("event", sorted(EVENT_DATA))
def test_every_state_event_pair(status, event):
    payload = {"reason": "Because", **EVENT_DATA[event]}
    if (event, status) in EXPECTED:
        assert workflow.plan(event, status, payload).target == EXPECTED[(event, status)]
    else:
        with pytest.raises(NotAllowed):
            workflow.plan(event, status, payload)


def test_table_has_exactly_the_domain_transitions():
    assert {(row.event, row.source) for row in workflow.TRANSITIONS} == set(EXPECTED)


@pytest.mark.parametrize("data, target, outcome", [
    ({"outcome": "channel"}, S.channel_screening, None),
    ({"outcome": "police_led"}, S.police_led, None),
    ({"outcome": "police_no_further_action"}, S.closed, O.police_no_further_action),
    ({"outcome": "signposted"}, S.closed, O.signposted),
])
def test_gateway_outcomes(data, target, outcome):
    step = workflow.plan("record_gateway_outcome", S.referred_to_police,
                         {"reason": "r", "decided_on": "2026-11-20", **data})
    assert (step.target, step.outcome) == (target, outcome)


@pytest.mark.parametrize("data, target, outcome", [
    ({"decision": "adopted", "consent": "given"}, S.channel_support, None),
    ({"decision": "adopted", "consent": "declined"}, S.closed, O.consent_declined),
    ({"decision": "not_adopted"}, S.closed, O.not_adopted),
])
def test_panel_decisions(data, target, outcome):
    step = workflow.plan("record_panel_decision", S.channel_panel, {"reason": "r", **data})
    assert (step.target, step.outcome) == (target, outcome)


def test_adopted_without_consent_is_invalid():
    with pytest.raises(InvalidData) as exc:
        workflow.plan("record_panel_decision", S.channel_panel, {"reason": "r", "decision": "adopted"})
    assert "consent" in exc.value.errors


def test_twelve_month_review_closes_with_support_completed():
    step = workflow.plan("record_review", S.post_exit_review,
                         {"reason": "r", "review": "12_months", "outcome_note": "n"})
    assert (step.target, step.outcome) == (S.closed, O.support_completed)


@pytest.mark.parametrize("event", sorted(EVENT_DATA))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_is_mandatory(event, reason):
    source = next(row.source for row in workflow.TRANSITIONS if row.event == event)
    with pytest.raises(InvalidData) as exc:
        workflow.plan(event, source, {**EVENT_DATA[event], "reason": reason})
    assert "reason" in exc.value.errors


def test_every_missing_required_field_is_reported_at_once():
    with pytest.raises(InvalidData) as exc:
        workflow.plan("refer_to_police", S.under_review, {"reason": "r"})
    assert set(exc.value.errors) == {"referral_date", "subject_informed"}


@pytest.mark.parametrize("field, value", [("referral_date", "25/11/2026"), ("subject_informed", "perhaps")])
def test_malformed_values_are_invalid(field, value):
    payload = {"reason": "r", "referral_date": "2026-11-25", "subject_informed": "yes", field: value}
    with pytest.raises(InvalidData) as exc:
        workflow.plan("refer_to_police", S.under_review, payload)
    assert list(exc.value.errors) == [field]


def test_unknown_event_is_not_allowed():
    with pytest.raises(NotAllowed):
        workflow.plan("delete_everything", S.reported, {"reason": "r"})


def test_only_the_lead_permission_reopens():
    assert [row.event for row in workflow.allowed_events(S.closed, lambda p: p == "can_transition")] == []
    assert [row.event for row in workflow.allowed_events(S.closed, lambda p: p == "can_reopen")] == ["reopen"]
