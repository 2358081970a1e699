"""The workflow table, pure: every (state, event) pair, without a database; and its guards on the case's facts."""
from datetime import date

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
    ("record_gateway_outcome", S.police_led): S.channel_screening,
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


@pytest.mark.parametrize("source", [S.referred_to_police, S.police_led])
@pytest.mark.parametrize("data, target, outcome", [
    ({"outcome": "channel"}, S.channel_screening, None),
    ({"outcome": "police_led"}, S.police_led, None),
    ({"outcome": "police_no_further_action"}, S.closed, O.police_no_further_action),
    ({"outcome": "signposted"}, S.closed, O.signposted),
])
def test_gateway_outcomes_after_a_referral_and_again_from_police_led(source, data, target, outcome):
    step = workflow.plan("record_gateway_outcome", source, {"reason": "r", "decided_on": "2026-11-20", **data})
    assert (step.target, step.outcome) == (target, outcome)


@pytest.mark.parametrize("data, target, outcome", [
    ({"decision": "adopted", "consent": "given", "consent_by": "subject"}, S.channel_support, None),
    ({"decision": "adopted", "consent": "declined", "consent_by": "subject", "onward": "no_further_action"},
     S.closed, O.consent_declined),
    ({"decision": "adopted", "consent": "declined", "consent_by": "parent_carer", "onward": "police_led"},
     S.police_led, None),
    ({"decision": "adopted", "consent": "declined", "consent_by": "subject", "onward": "other_support"},
     S.closed, O.onward_support),
    ({"decision": "not_adopted", "onward": "no_further_action"}, S.closed, O.not_adopted),
    ({"decision": "not_adopted", "onward": "police_led"}, S.police_led, None),
    ({"decision": "not_adopted", "onward": "other_support"}, S.closed, O.onward_support),
])
def test_panel_decisions_and_onward_routes(data, target, outcome):
    step = workflow.plan("record_panel_decision", S.channel_panel, {"reason": "r", **data})
    assert (step.target, step.outcome) == (target, outcome)


@pytest.mark.parametrize("data, field", [
    ({"decision": "adopted"}, "consent"),
    ({"decision": "adopted", "consent": "given"}, "consent_by"),
    ({"decision": "adopted", "consent": "declined", "consent_by": "subject"}, "onward"),
    ({"decision": "not_adopted"}, "onward"),
    ({"decision": "adopted", "consent": "given", "consent_by": "subject", "onward": "police_led"}, "onward"),
    ({"decision": "not_adopted", "onward": "somewhere"}, "onward"),
    ({"decision": "adopted", "consent": "given", "consent_by": "a friend"}, "consent_by"),
])
def test_a_panel_decision_missing_what_it_needs_names_the_field(data, field):
    with pytest.raises(InvalidData) as exc:
        workflow.plan("record_panel_decision", S.channel_panel, {"reason": "r", **data})
    assert list(exc.value.errors) == [field]


UNDER_18 = workflow.Facts(today=date(2026, 12, 1), date_of_birth=date(2009, 1, 5), panel_date=date(2026, 11, 20))


def test_consent_of_someone_under_18_on_the_panel_date_is_a_parents_or_carers():
    data = {"reason": "r", "decision": "adopted", "consent": "given"}
    with pytest.raises(InvalidData) as exc:
        workflow.plan("record_panel_decision", S.channel_panel, {**data, "consent_by": "subject"}, UNDER_18)
    assert exc.value.errors == {"consent_by": [
        "The person was under 18 on 20 November 2026, the day of the decision: consent is given or declined by a "
        "parent or carer."]}
    assert workflow.plan("record_panel_decision", S.channel_panel, {**data, "consent_by": "parent_carer"},
                         UNDER_18).target == S.channel_support
    # 18 on the day of the panel: their own consent.
    adult = workflow.Facts(date_of_birth=date(2008, 11, 20), panel_date=date(2026, 11, 20))
    assert workflow.plan("record_panel_decision", S.channel_panel, {**data, "consent_by": "subject"},
                         adult).target == S.channel_support
    # Not adopted, no consent asked: no rule on who answers.
    assert workflow.plan("record_panel_decision", S.channel_panel,
                         {"reason": "r", "decision": "not_adopted", "onward": "police_led"}, UNDER_18).target \
        == S.police_led


EXIT = date(2026, 6, 3)


def review(kind: str, today: date, done: frozenset[str] = frozenset(), grace: int = 14):
    facts = workflow.Facts(today=today, exit_date=EXIT, reviews_done=done, review_grace_days=grace)
    return workflow.plan("record_review", S.post_exit_review,
                         {"reason": "r", "review": kind, "outcome_note": "n"}, facts)


def test_the_six_month_review_from_six_months_after_the_exit_less_the_grace():
    with pytest.raises(InvalidData) as exc:
        review("6_months", date(2026, 11, 18))
    assert exc.value.errors == {"review": ["The 6-month review can be recorded from 19 November 2026."]}
    assert review("6_months", date(2026, 11, 19)).target == S.post_exit_review
    with pytest.raises(InvalidData) as exc:
        review("6_months", date(2026, 12, 2), grace=0)
    assert exc.value.errors == {"review": ["The 6-month review can be recorded from 3 December 2026."]}


def test_the_twelve_month_review_after_the_six_month_one_and_from_twelve_months_less_the_grace():
    with pytest.raises(InvalidData) as exc:
        review("12_months", date(2027, 7, 1))
    assert exc.value.errors == {"review": [
        "The 12-month review comes after the 6-month review: record the 6-month review first."]}
    six = frozenset({"6_months"})
    with pytest.raises(InvalidData) as exc:
        review("12_months", date(2027, 5, 19), six)
    assert exc.value.errors == {"review": ["The 12-month review can be recorded from 20 May 2027."]}
    step = review("12_months", date(2027, 5, 20), six)
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
