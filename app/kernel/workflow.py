"""The case state machine, as one table. Pure Python: no database, no Flask.

Each row says: from which state an event may be taken, which permission it needs, what data it takes, and where it
leads (which may depend on that data, e.g. the police gateway outcome). Nothing else decides whether a case may move:
views, the API, the CLI and tests all go through `app.cases.use_cases.transition`, which asks `plan()` below.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.kernel.errors import InvalidData, NotAllowed
from app.kernel.schemas import Body, Bool, Choice, Date, Parsed, Text
from app.models import CaseStatus as S
from app.models import ClosureOutcome as O

REASON_MAX = 10_000
TEXT_MAX = 10_000
SHORT_TEXT_MAX = 200


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "date", "bool", "choice", "text", "short_text"
    label: str
    required: bool = True
    choices: tuple[str, ...] = ()
    column: str | None = None  # the Case attribute it sets; None keeps it in the chronology entry only

    def schema_field(self, *, choices: tuple[str, ...] | None = None, required: bool | None = None) -> Parsed:
        """The schema field that reads this field (`choices` and `required` as given, for the body that takes
        every event)."""
        required = self.required if required is None else required
        if self.kind == "choice":
            return Choice(self.choices if choices is None else choices, required=required)
        if self.kind in ("text", "short_text"):
            return Text(TEXT_MAX if self.kind == "text" else SHORT_TEXT_MAX, required=required)
        return {"date": Date, "bool": Bool}[self.kind](required=required)


Route = Callable[[Mapping[str, Any]], "tuple[S, O | None]"]


def to(status: S, outcome: O | None = None) -> Route:
    return lambda data: (status, outcome)


def by(field_name: str, routes: Mapping[str, tuple[S, O | None]]) -> Route:
    return lambda data: routes[data[field_name]]


def _panel_decision(data: Mapping[str, Any]) -> tuple[S, O | None]:
    if data["decision"] == "not_adopted":
        return S.closed, O.not_adopted
    if data.get("consent") is None:
        raise InvalidData({"consent": ["An adopted case needs the consent answer (given or declined)."]})
    return (S.channel_support, None) if data["consent"] == "given" else (S.closed, O.consent_declined)


@dataclass(frozen=True)
class Transition:
    event: str
    label: str
    source: S
    route: Route
    permission: str = "can_transition"
    fields: tuple[Field, ...] = field(default_factory=tuple)


INTERNAL_OUTCOMES = (O.no_further_action.value, O.internal_safeguarding.value, O.signposted.value)

TRANSITIONS: tuple[Transition, ...] = (
    Transition("acknowledge", "Acknowledge", S.reported, to(S.under_review)),
    Transition(
        "close", "Close with an internal outcome", S.under_review,
        lambda data: (S.closed, O(data["outcome"])),
        fields=(Field("outcome", "choice", "Outcome", choices=INTERNAL_OUTCOMES),),
    ),
    Transition(
        "refer_to_police", "Refer to police Prevent", S.under_review, to(S.referred_to_police),
        fields=(
            Field("referral_date", "date", "Date the referral was sent", column="referral_date"),
            Field("subject_informed", "bool", "Was the person (or parent/carer if under 18) told?",
                  column="subject_informed"),
            Field("police_reference", "short_text", "Police reference", required=False, column="police_reference"),
            Field("parallel_safeguarding_referral", "bool", "Parallel safeguarding referral made?", required=False,
                  column="parallel_safeguarding_referral"),
        ),
    ),
    Transition(
        "record_gateway_outcome", "Record the police gateway outcome", S.referred_to_police,
        by("outcome", {
            "channel": (S.channel_screening, None),
            "police_led": (S.police_led, None),
            "police_no_further_action": (S.closed, O.police_no_further_action),
            "signposted": (S.closed, O.signposted),
        }),
        fields=(
            Field("outcome", "choice", "Gateway outcome", column="gateway_outcome",
                  choices=("channel", "police_led", "police_no_further_action", "signposted")),
            Field("decided_on", "date", "Date decided", column="gateway_decided_on"),
            Field("feedback", "text", "Feedback received", required=False),
        ),
    ),
    Transition("close_police_led", "Close (police-led case ended)", S.police_led, to(S.closed, O.police_closed)),
    Transition(
        "schedule_panel", "Schedule the Channel panel", S.channel_screening, to(S.channel_panel),
        fields=(
            Field("panel_date", "date", "Panel date", column="panel_date"),
            Field("local_authority", "short_text", "Local authority", column="local_authority"),
            Field("attendees", "text", "Attendees", required=False),
        ),
    ),
    Transition("screen_out", "Screened out of Channel", S.channel_screening, to(S.closed, O.screened_out)),
    Transition(
        "record_panel_decision", "Record the panel decision", S.channel_panel, _panel_decision,
        fields=(
            Field("decision", "choice", "Decision", choices=("adopted", "not_adopted"), column="panel_decision"),
            Field("consent", "choice", "Consent (if adopted)", required=False, choices=("given", "declined"),
                  column="consent"),
            Field("consent_by", "short_text", "Consent given or declined by", required=False),
            Field("vaf_summary", "text", "VAF summary (engagement, intent, capability)", required=False,
                  column="vaf_summary"),
            Field("intervention_provider", "short_text", "Intervention provider", required=False,
                  column="intervention_provider"),
            Field("next_review_date", "date", "Next review date", required=False, column="next_review_date"),
        ),
    ),
    Transition(
        "exit_support", "Support ended", S.channel_support, to(S.post_exit_review),
        fields=(
            Field("exit_date", "date", "Exit date", column="exit_date"),
            Field("exit_reason", "text", "Exit reason", column="exit_reason"),
        ),
    ),
    Transition(
        "record_review", "Record a post-exit review", S.post_exit_review,
        by("review", {"6_months": (S.post_exit_review, None), "12_months": (S.closed, O.support_completed)}),
        fields=(
            Field("review", "choice", "Review", choices=("6_months", "12_months")),
            Field("outcome_note", "text", "Review outcome"),
        ),
    ),
    Transition("reopen", "Reopen", S.closed, to(S.under_review), permission="can_reopen"),
)

EVENTS: dict[str, tuple[Transition, ...]] = {}
for _row in TRANSITIONS:
    EVENTS.setdefault(_row.event, ())
    EVENTS[_row.event] += (_row,)


@dataclass(frozen=True)
class Plan:
    transition: Transition
    target: S
    outcome: O | None
    data: dict[str, Any]  # the event's fields, parsed
    reason: str


def find(event: str, status: S) -> Transition:
    """The row for `event` from `status`; NotAllowed when there is none (unknown events included)."""
    for row in EVENTS.get(event, ()):
        if row.source == status:
            return row
    raise NotAllowed(event, status.value)


def allowed_events(status: S, has_permission: Callable[[str], bool]) -> list[Transition]:
    return [row for row in TRANSITIONS if row.source == status and has_permission(row.permission)]


def plan(event: str, status: S, payload: Any) -> Plan:
    """Checks an event against the table and its data; returns where it leads, or raises NotAllowed/InvalidData."""
    row = find(event, status)
    form = _ROW_SCHEMAS[row.event, row.source].check(payload, also=("event", "version"))  # read by transition()
    data = {spec.name: form[spec.name] for spec in row.fields}
    target, outcome = row.route(data)
    return Plan(row, target, outcome, data, form["reason"])


def row_schema(row: Transition) -> Body:
    """The schema of one event's body: its reason and its own data (`event` and `version` are read before)."""
    fields: dict[str, Parsed] = {"reason": Text(REASON_MAX, required=True)}
    fields.update({spec.name: spec.schema_field() for spec in row.fields})
    return Body.of(fields, name=f"Event_{row.event}_{row.source.value}")


_ROW_SCHEMAS = {(row.event, row.source): row_schema(row) for row in TRANSITIONS}


OPEN_STATES = tuple(s for s in S if s != S.closed)
