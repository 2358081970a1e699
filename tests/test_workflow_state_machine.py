"""A hypothesis state machine over the workflow and the roles: any sequence of events, by anyone, through the
service, leaves each case where the workflow table says, refuses what the table or the role refuses, changes nothing
when it refuses, and keeps the audit chain whole."""
from __future__ import annotations

from datetime import date

import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from app.cases import use_cases as cases
from app.extensions import db
from app.kernel import audit_verify, workflow
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound
from app.kernel.security import can
from app.models import AuditEvent, Case, CaseStatus
from tests.conftest import EVENT_DATA, concern_payload, user

pytestmark = pytest.mark.slow  # about a minute of generated sequences

USERS = ("staff", "staff2", "officer", "officer2", "lead", "director", "governance", "admin")
EVENT_CHOICES = {
    "close": [{"outcome": o} for o in workflow.INTERNAL_OUTCOMES],
    "record_gateway_outcome": [{"outcome": o, "decided_on": "2026-11-20"}
                               for o in ("channel", "police_led", "police_no_further_action", "signposted")],
    "record_panel_decision": [{"decision": "adopted", "consent": "given", "consent_by": "subject"},
                              {"decision": "adopted", "consent": "declined", "consent_by": "subject",
                               "onward": "no_further_action"},
                              {"decision": "adopted", "consent": "declined"},  # no onward route: refused
                              {"decision": "not_adopted", "onward": "police_led"},
                              {"decision": "not_adopted", "onward": "other_support"}, {"decision": "not_adopted"}],
    # Support ended long enough ago for both reviews, or today (the reviews then refused as too early).
    "exit_support": [{"exit_date": (date.today() - relativedelta(months=13)).isoformat(), "exit_reason": "Done"},
                     EVENT_DATA["exit_support"]],
    "record_review": [{"review": "6_months", "outcome_note": "Fine"}, {"review": "12_months", "outcome_note": "Done"}],
}
# Whatever reviews were recorded: where an event the service took leads (its guards passed when it was taken).
ANY_FACTS = workflow.Facts(reviews_done=frozenset({"6_months"}))


def event_payloads():
    return st.sampled_from(sorted(EVENT_DATA)).flatmap(
        lambda event: st.sampled_from(EVENT_CHOICES.get(event, [EVENT_DATA[event]])).map(
            lambda data: {"event": event, "reason": f"Because {event}", **data}))


class Workflow(RuleBasedStateMachine):
    @initialize()
    def raise_a_concern(self):
        self.case_id = cases.raise_concern(user("staff"), concern_payload()).id
        self.status = CaseStatus.reported
        self.audit_events = self.count_audit()

    @staticmethod
    def count_audit() -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    @rule(username=st.sampled_from(USERS), payload=event_payloads())
    def take(self, username, payload):
        actor = user(username)
        try:
            case = cases.transition(actor, self.case_id, payload)
        except (Forbidden, NotFound):
            assert not self.may(actor, payload)
            assert self.count_audit() == self.audit_events  # a refusal changes nothing
            return
        except Conflict:
            assert not self.allowed(payload)
            assert self.count_audit() == self.audit_events
            return
        except InvalidData:
            assert self.count_audit() == self.audit_events
            return
        expected = workflow.plan(payload["event"], self.status, payload, ANY_FACTS).target
        assert self.may(actor, payload)
        assert case.status == expected
        self.status = expected
        self.audit_events = self.count_audit()

    def may(self, actor, payload) -> bool:
        """The table allows the event now, and the actor's role works on cases and may take it."""
        return (can(actor, "can_read_all") and self.allowed(payload)
                and can(actor, workflow.find(payload["event"], self.status).permission))

    def allowed(self, payload) -> bool:
        try:
            workflow.find(payload["event"], self.status)
        except Conflict:
            return False
        return True

    @invariant()
    def the_record_agrees(self):
        if not hasattr(self, "case_id"):
            return
        db.session.expire_all()
        case = db.session.get(Case, self.case_id)
        assert case.status == self.status
        assert (case.status == CaseStatus.closed) == (case.closure_outcome is not None)
        db.session.rollback()

    def teardown(self):
        assert audit_verify.verify(db.session).ok


@pytest.mark.usefixtures("ctx")
def test_any_sequence_of_events_by_anyone_keeps_the_workflow_and_the_audit_whole():
    Workflow.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None,
                                          suppress_health_check=list(HealthCheck))
    Workflow.TestCase().runTest()
