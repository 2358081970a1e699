"""Test data in one place: builders that make users, concerns and cases through the app's own services, as a user
of the app would, each with names of its own so that tests do not meet each other's records."""
from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.kernel.ages import is_under_18

PASSWORD = "correct-horse-battery-staple-42"
_counter = itertools.count(1)


def user(name: str):
    from flask import current_app
    return current_app.appbuilder.sm.find_user(name)


def make_user(role: str, prefix: str = "user", first_name: str | None = None,
              last_name: str = "Tester") -> str:
    """A user of the test's own with `role` and the tests' PASSWORD, named `prefix`-<random>; returns the username."""
    from flask import current_app
    sm = current_app.appbuilder.sm
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    assert sm.add_user(name, first_name or prefix.capitalize(), last_name, f"{name}@example.org", sm.find_role(role),
                       PASSWORD)
    return name


def concern_payload(**overrides) -> dict[str, Any]:
    n = next(_counter)
    payload = {
        "subject": {"full_name": f"Test Subject {n}", "subject_type": "learner", "date_of_birth": "2008-01-02"},
        "description": f"Concern text {n}: said \"something worrying\".",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "location": "Room 4",
        "indicator_ids": [],
        "immediate_danger": False,
    }
    payload.update(overrides)
    return payload


# Valid data for every event, enough to take it; the target follows from the workflow table.
EVENT_DATA: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "close": {"outcome": "no_further_action"},
    "refer_to_police": {"referral_date": date.today().isoformat(), "subject_informed": False},
    "record_gateway_outcome": {"outcome": "channel", "decided_on": date.today().isoformat()},
    "close_police_led": {},
    "schedule_panel": {"panel_date": date.today().isoformat(), "local_authority": "Test Council"},
    "screen_out": {},
    "record_panel_decision": {"decision": "adopted", "consent": "given", "consent_by": "subject"},
    "exit_support": {"exit_date": date.today().isoformat(), "exit_reason": "Plan completed"},
    "record_review": {"review": "6_months", "outcome_note": "Doing well"},
    "reopen": {},
}

# The shortest path of events from `reported` to each state.
PATH_TO: dict[str, list[tuple[str, dict]]] = {
    "reported": [],
    "under_review": [("acknowledge", {})],
}
PATH_TO["referred_to_police"] = PATH_TO["under_review"] + [("refer_to_police", {})]
PATH_TO["channel_screening"] = PATH_TO["referred_to_police"] + [("record_gateway_outcome", {"outcome": "channel"})]
PATH_TO["police_led"] = PATH_TO["referred_to_police"] + [("record_gateway_outcome", {"outcome": "police_led"})]
PATH_TO["channel_panel"] = PATH_TO["channel_screening"] + [("schedule_panel", {})]
PATH_TO["channel_support"] = PATH_TO["channel_panel"] + [("record_panel_decision", {})]
PATH_TO["post_exit_review"] = PATH_TO["channel_support"] + [("exit_support", {})]
PATH_TO["closed"] = PATH_TO["under_review"] + [("close", {})]


def make_case(reporter: str = "staff", state: str = "reported", **overrides):
    """A case raised by `reporter` and moved by the officer to `state`, through the services."""
    from app.cases import use_cases as cases
    case = cases.raise_concern(user(reporter), concern_payload(**overrides))
    for event, data in PATH_TO[state]:
        if event == "record_panel_decision" and is_under_18(case.subject.date_of_birth, date.today()):
            data = {"consent_by": "parent_carer", **data}  # under 18, a parent or carer answers for consent
        cases.transition(user("officer") if event != "reopen" else user("lead"), case.id,
                         {"event": event, "reason": f"Reason for {event}", **EVENT_DATA[event], **data})
    return case.id
