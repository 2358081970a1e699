"""The bodies of every write to the risk assessment (the Prevent Lead's pages and the API): one schema each, which
validates the body and documents it. Each field's limit and choices are written here and nowhere else; who may own
an action, and what a status change needs, are the use case's."""
from __future__ import annotations

from typing import Any

from app.cases.models import ActionStatus
from app.kernel.schemas import Body, Choice, Date, Id, Text, Whole
from app.risks.models import SCALE, RiskArea

TITLE_MAX = 200
CONTROLS_MAX = 10_000
NOTE_MAX = 10_000
AREAS = tuple(area.value for area in RiskArea)
# Each area in words, in the order of the Prevent duty guidance as the issue lists them.
AREA_LABELS = {
    RiskArea.leadership_partnership: "Leadership and partnership",
    RiskArea.staff_training: "Staff training",
    RiskArea.it_online_safety: "IT and online safety",
    RiskArea.speakers_events: "External speakers and events",
    RiskArea.site_welfare: "Site and welfare",
    RiskArea.subcontracted_provision: "Subcontracted provision",
    RiskArea.employers: "Employers of apprentices",
    RiskArea.regional_context: "Regional context",
}
SCALE_MESSAGE = f"Choose a number from {SCALE.start} to {SCALE.stop - 1}."
# The words each point of the scale stands for, as the form offers them.
LIKELIHOOD_WORDS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}
IMPACT_WORDS = {1: "Minor", 2: "Moderate", 3: "Serious", 4: "Major", 5: "Severe"}


class Scale(Whole):
    """A point of the 1 to 5 scale of likelihood and impact."""

    def parse(self, raw: Any) -> int:
        try:
            number = super().parse(raw)
        except ValueError:
            raise ValueError(SCALE_MESSAGE) from None
        if number not in SCALE:
            raise ValueError(SCALE_MESSAGE)
        return number

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": SCALE.start, "maximum": SCALE.stop - 1}


class RiskSchema(Body):
    """A risk: its area, what could happen, how likely (1 to 5) and how bad (1 to 5), and the controls in place."""

    area = Choice(AREAS, required=True)
    title = Text(TITLE_MAX, required=True)
    likelihood = Scale(required=True)
    impact = Scale(required=True)
    controls = Text(CONTROLS_MAX)
    version = Whole()  # the version read, when changing a risk (409 if someone changed it since)


RISK = RiskSchema()


class RiskActionSchema(Body):
    title = Text(TITLE_MAX, required=True)
    owner_id = Id(required=True)
    due_date = Date(required=True)


RISK_ACTION = RiskActionSchema()


class RiskActionUpdateSchema(Body):
    """Completes or cancels an open action of the plan; done needs a completion note."""

    status = Choice((ActionStatus.done.value, ActionStatus.cancelled.value), required=True)
    completion_note = Text(NOTE_MAX)  # required when done
    version = Whole()


RISK_ACTION_UPDATE = RiskActionUpdateSchema()


class SignOffSchema(Body):
    """The Prevent Lead's sign-off of the risk assessment as it stands: what was reviewed, with whom, what follows."""

    note = Text(NOTE_MAX, required=True)


SIGN_OFF = SignOffSchema()
