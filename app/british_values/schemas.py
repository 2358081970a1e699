"""The bodies of every write about British values and Learner Voice (pages and API alike): one schema each. Each
field's limit and choices, and the survey's questions, are written here and nowhere else."""
from __future__ import annotations

from app.british_values.models import BritishValue
from app.kernel.schemas import Body, Choice, Date, Parsed, Text, Upload, Whole
from app.policies.schemas import web_address

PROGRAMME_MAX = 200
DESCRIPTION_MAX = 5_000
EVIDENCE_REF_MAX = 500
EVIDENCE_TYPES = ("pdf", "png", "jpeg", "docx")
MOST_RESPONDENTS = 100_000

VALUES = tuple(value.value for value in BritishValue)
# Each value in words, as the pages and the evidence pack say it.
VALUE_LABELS = {
    BritishValue.democracy: "Democracy",
    BritishValue.rule_of_law: "The rule of law",
    BritishValue.individual_liberty: "Individual liberty",
    BritishValue.mutual_respect: "Mutual respect and tolerance of those of different faiths and beliefs",
}

# The Learner Voice questions (a small fixed set; each a pair of columns on LearnerVoiceSurvey): key, statement.
QUESTIONS = {
    "feel_safe": "I feel safe at my training provider and at work",
    "british_values": "I understand British values and what they mean for my life and work",
    "know_how_to_report": "I know who to talk to if I am worried about myself or someone else",
    "respected": "Everyone here is treated with respect, whatever their faith or beliefs",
}


def evidence_ref(text: str) -> str:
    """Where the evidence is: a web address, or a reference to where it is kept (no script can hide in either, as
    only a web address is ever made a link)."""
    return web_address(text) if text.lower().startswith(("http:", "https:")) else text


class ActivitySchema(Body):
    """An activity that promoted a British value in a programme."""

    programme = Text(PROGRAMME_MAX, required=True)
    held_on = Date(past=True, required=True)
    value = Choice(VALUES, required=True)
    description = Text(DESCRIPTION_MAX, required=True)
    evidence_ref = Text(EVIDENCE_REF_MAX, check=evidence_ref)  # a link or where the evidence is kept
    evidence = Upload("Send the evidence as a file.")  # from the page only


ACTIVITY = ActivitySchema()


def _survey_fields() -> dict[str, Parsed]:
    fields: dict[str, Parsed] = {
        "programme": Text(PROGRAMME_MAX, required=True),
        "period_start": Date(required=True),
        "period_end": Date(past=True, required=True),
        "respondents": Whole(required=True),
    }
    for key in QUESTIONS:
        fields[f"{key}_agree"] = Whole()  # how many agreed
        fields[f"{key}_total"] = Whole()  # how many answered the question
    return fields


# The results of a Learner Voice survey of one programme: how many answered, and for each question asked, how many
# answered it and how many agreed (a question not asked is left out).
SURVEY = Body.of(_survey_fields(), name="LearnerVoiceSchema")
