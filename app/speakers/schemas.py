"""The bodies of the two writes about external speakers and events (pages and API alike): one schema each, which
validates the body and documents the API's. Each field's limit and choices are written here and nowhere else; the
rules between fields (conditions come with an approval with conditions) are the use case's."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.kernel.schemas import Body, Choice, Date, Text, Upload
from app.kernel.validation import parse_date
from app.speakers.models import EventFormat, SpeakerDecision, SpeakerRisk

SPEAKER_MAX = 200
TOPIC_MAX = 300
AUDIENCE_MAX = 300
TEXT_MAX = 5_000
FORMATS = tuple(f.value for f in EventFormat)
DECISIONS = tuple(d.value for d in SpeakerDecision)
RISKS = tuple(r.value for r in SpeakerRisk)
NOT_PAST = "The event date cannot be in the past."
# Each stored value in words, as the pages and emails say it.
FORMAT_LABELS = {EventFormat.online: "Online", EventFormat.in_person: "In person"}
DECISION_LABELS = {SpeakerDecision.approved: "Approved",
                   SpeakerDecision.approved_with_conditions: "Approved with conditions",
                   SpeakerDecision.declined: "Declined"}
RISK_LABELS = {SpeakerRisk.low: "Low", SpeakerRisk.medium: "Medium", SpeakerRisk.high: "High"}


class EventDate(Date):
    """The day of the talk or event: today or later (a request comes before the event)."""

    def parse(self, raw: Any) -> date:
        value = parse_date(raw)
        if value < date.today():
            raise ValueError(NOT_PAST)
        return value


class SpeakerRequestSchema(Body):
    """A request for approval: who speaks, on what, when, to whom, online or in person, and what they will use."""

    speaker = Text(SPEAKER_MAX, required=True)  # a person, or the organisation running the event
    topic = Text(TOPIC_MAX, required=True)
    event_date = EventDate(required=True)
    audience = Text(AUDIENCE_MAX, required=True)  # who will be there, and about how many
    format = Choice(FORMATS, required=True)
    materials = Text(TEXT_MAX)  # slides, handouts, links, videos: what the speaker will show or hand out
    materials_file = Upload("Send the materials as a file.")  # from the page: slides or a handout


class SpeakerDecisionSchema(Body):
    """The check and the decision: `conditions` is needed for an approval with conditions and refused otherwise;
    `checks` (what was checked) and `risk` are recorded when given."""

    decision = Choice(DECISIONS, required=True)
    reason = Text(TEXT_MAX, required=True)
    conditions = Text(TEXT_MAX)
    checks = Text(TEXT_MAX)
    risk = Choice(RISKS)


REQUEST = SpeakerRequestSchema()
DECISION = SpeakerDecisionSchema()
