"""The case state machine, as one table. Pure Python: no database, no Flask.

Each row says: from which state an event may be taken, which permission it needs, what data it takes, and where it
leads (which may depend on that data, e.g. the police gateway outcome). Nothing else decides whether a case may move:
views, the API, the CLI and tests all go through `app.cases.use_cases.transition`, which asks `plan()` below.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from app.kernel.ages import is_under_18
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
    hint: str | None = None  # shown under the label on the page's form
    choice_words: tuple[tuple[str, str], ...] = ()  # how the page's form says a choice, where not its words

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


ONWARD = ("police_led", "other_support", "no_further_action")
CONSENT_BY_MESSAGE = "Say who answered for consent: the person (subject) or a parent or carer (parent_carer)."
ONWARD_MESSAGE = ("Choose the onward route (police_led, other_support or no_further_action): the case was not "
                  "adopted, or consent was declined.")


def _panel_decision(data: Mapping[str, Any]) -> tuple[S, O | None]:
    """Adopted with consent given: support. Not adopted, or consent declined: the onward route decides."""
    errors: dict[str, list[str]] = {}
    adopted = data["decision"] == "adopted"
    if adopted and data.get("consent") is None:
        errors["consent"] = ["An adopted case needs the consent answer (given or declined)."]
    if data.get("consent") is not None and data.get("consent_by") is None:
        errors["consent_by"] = [CONSENT_BY_MESSAGE]
    supported = adopted and data.get("consent") == "given"
    if not supported and "consent" not in errors and data.get("onward") is None:
        errors["onward"] = [ONWARD_MESSAGE]
    if supported and data.get("onward") is not None:
        errors["onward"] = ["An onward route is only for a case not adopted, or whose consent was declined."]
    if errors:
        raise InvalidData(errors)
    if supported:
        return S.channel_support, None
    onward = data["onward"]
    if onward == "police_led":
        return S.police_led, None
    if onward == "other_support":
        return S.closed, O.onward_support
    return S.closed, O.not_adopted if not adopted else O.consent_declined


# --- guards: rules that need facts about the case beyond the event's data -----------------------------------------

@dataclass(frozen=True)
class Facts:
    """What a guard needs to know about the case, gathered by the transition use case (app/cases/pathway_facts.py).
    The defaults know nothing, so that a guard checks only what is known."""

    today: date = field(default_factory=date.today)
    date_of_birth: date | None = None
    panel_date: date | None = None
    exit_date: date | None = None
    reviews_done: frozenset[str] = frozenset()  # post-exit reviews recorded since support last ended
    review_grace_days: int = 14


Guard = Callable[[Facts, Mapping[str, Any]], None]

def said_date(day: date) -> str:
    """A date in UK words: "3 June 2027"."""
    return f"{day.day} {day:%B %Y}"


def _consent_fits_age(facts: Facts, data: Mapping[str, Any]) -> None:
    """Under 18 on the day of the decision (the panel's date, or the day it is recorded), consent is a parent's or
    carer's."""
    decided_on = facts.panel_date or facts.today
    if (data.get("consent") is not None and data.get("consent_by") == "subject" and facts.date_of_birth is not None
            and is_under_18(facts.date_of_birth, decided_on)):
        raise InvalidData({"consent_by": [
            f"The person was under 18 on {said_date(decided_on)}, the day of the decision: consent is given or "
            "declined by a parent or carer."]})


REVIEW_TIMES = {"6_months": ("6-month", relativedelta(months=6)), "12_months": ("12-month", relativedelta(months=12))}


def first_review_day(exit_date: date, review: str, grace_days: int) -> date:
    """The first day a post-exit review may be recorded: its months after the exit date, less the grace."""
    return exit_date + REVIEW_TIMES[review][1] - timedelta(days=grace_days)


def _review_on_time(facts: Facts, data: Mapping[str, Any]) -> None:
    """The 6-month review from 6 months after support ended, the 12-month one after it and from 12 months; each less
    the grace the Prevent Lead sets."""
    review = data["review"]
    label = REVIEW_TIMES[review][0]
    if review == "12_months" and "6_months" not in facts.reviews_done:
        raise InvalidData({"review": ["The 12-month review comes after the 6-month review: record the 6-month "
                                      "review first."]})
    if facts.exit_date is None:
        return
    first = first_review_day(facts.exit_date, review, facts.review_grace_days)
    if facts.today < first:
        raise InvalidData({"review": [f"The {label} review can be recorded from {said_date(first)}."]})


@dataclass(frozen=True)
class Transition:
    event: str
    label: str
    source: S
    route: Route
    permission: str = "can_transition"
    fields: tuple[Field, ...] = field(default_factory=tuple)
    guard: Guard | None = None  # a rule on the case's facts, checked after the data (see Facts)


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
    *(Transition(
        "record_gateway_outcome", label, source,
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
    ) for source, label in (
        (S.referred_to_police, "Record the police gateway outcome"),
        # The police assessment is not a one-off check: a police-led case may be assessed again, and escalated to
        # Channel. Each assessment stays in the chronology with its date.
        (S.police_led, "Record a further police assessment"),
    )),
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
                  column="consent", hint="A referral to Channel is not a criminal process."),
            Field("consent_by", "choice", "Consent given or declined by", required=False,
                  choices=("subject", "parent_carer"), column="consent_by",
                  hint="A parent or carer if the person is under 18.",
                  choice_words=(("subject", "The person"), ("parent_carer", "A parent or carer"))),
            Field("onward", "choice", "Onward route (if not adopted, or consent declined)", required=False,
                  choices=ONWARD, column="onward",
                  choice_words=(("police_led", "Police-led case management"),
                                ("other_support", "Other support (the case closes)"),
                                ("no_further_action", "No further action (the case closes)"))),
            Field("vaf_summary", "text", "VAF summary (engagement, intent, capability)", required=False,
                  column="vaf_summary"),
            Field("intervention_provider", "short_text", "Intervention provider", required=False,
                  column="intervention_provider"),
            Field("next_review_date", "date", "Next review date", required=False, column="next_review_date"),
        ),
        guard=_consent_fits_age,
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
        guard=_review_on_time,
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


def plan(event: str, status: S, payload: Any, facts: Facts | None = None) -> Plan:
    """Checks an event against the table, its data and the row's guard on the case's `facts`; returns where it
    leads, or raises NotAllowed/InvalidData."""
    row = find(event, status)
    form = _ROW_SCHEMAS[row.event, row.source].check(payload, also=("event", "version"))  # read by transition()
    data = {spec.name: form[spec.name] for spec in row.fields}
    target, outcome = row.route(data)
    if row.guard is not None:
        row.guard(facts or Facts(), data)
    return Plan(row, target, outcome, data, form["reason"])


def row_schema(row: Transition) -> Body:
    """The schema of one event's body: its reason and its own data (`event` and `version` are read before)."""
    fields: dict[str, Parsed] = {"reason": Text(REASON_MAX, required=True)}
    fields.update({spec.name: spec.schema_field() for spec in row.fields})
    return Body.of(fields, name=f"Event_{row.event}_{row.source.value}")


_ROW_SCHEMAS = {(row.event, row.source): row_schema(row) for row in TRANSITIONS}


OPEN_STATES = tuple(s for s in S if s != S.closed)
