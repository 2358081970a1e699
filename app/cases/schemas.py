"""The bodies of every write on a case (pages and API alike): one schema each, which validates the body and documents
it. Each field's limit and choices are written here and nowhere else."""
from __future__ import annotations

from app.cases.models import ActionStatus, SubjectType
from app.kernel import workflow
from app.kernel.schemas import (
    Body,
    Bool,
    Choice,
    Date,
    DateTime,
    Id,
    IdList,
    Object,
    ObjectList,
    Parsed,
    Text,
    Whole,
)

DESCRIPTION_MAX = 20_000
NAME_MAX = 200
SHORT_MAX = 200  # a place, a source
REF_MAX = 64  # a learner or police reference
NOTE_KINDS = ("information_gathered", "advice_sought", "note")
SUBJECT_TYPES = tuple(t.value for t in SubjectType)
TITLE_MAX = 300  # an action's
ACTION_NOTE_MAX = 10_000
GRANT_REASON_MAX = 2_000
BREAK_GLASS_REASON_MAX = 1_000


class SubjectSchema(Body):
    """A new subject: on its own (officers), or inside a concern."""

    full_name = Text(NAME_MAX, required=True)
    subject_type = Choice(SUBJECT_TYPES, required=True)
    date_of_birth = Date(past=True)
    programme = Text(NAME_MAX)
    learner_ref = Text(REF_MAX)
    employer_id = Id()
    subcontractor_id = Id()  # for a subcontractor's learner: which subcontractor (ignored for any other subject)


SUBJECT = SubjectSchema()


PEOPLE_INVOLVED_MAX = 20
PERSON_TEXT_MAX = 200
INFORMATION_MAX = 20_000


class PersonInvolvedSchema(Body):
    """Someone else involved in a concern: only the name is needed."""

    name = Text(PERSON_TEXT_MAX, required=True)
    role = Text(PERSON_TEXT_MAX)
    relationship = Text(PERSON_TEXT_MAX)


PERSON_INVOLVED = PersonInvolvedSchema()


class ConcernSchema(Body):
    """Raising a concern, about a subject named by `subject_id` or a new one described in `subject`."""

    description = Text(DESCRIPTION_MAX, required=True)
    occurred_at = DateTime(past=True, required=True)
    immediate_danger = Bool(required=True)
    subject_id = Id()
    subject = Object(SUBJECT)
    location = Text(SHORT_MAX)
    indicator_ids = IdList(bad="Send a list of indicator ids.")
    concern_type_id = Id()
    police_called = Bool()  # required when someone is in immediate danger
    police_incident_number = Text(REF_MAX)
    action_taken = Text(DESCRIPTION_MAX)
    dso_informed_verbally = Bool()
    others_involved = ObjectList(
        PERSON_INVOLVED, most=PEOPLE_INVOLVED_MAX,
        bad="Send a list of people, each with a name, role and relationship.",
        too_many=f"Name at most {PEOPLE_INVOLVED_MAX} people here; add others in the description.",
        bad_item="Send each person as an object with a name, role and relationship.")


CONCERN = ConcernSchema()


class InformationSchema(Body):
    """What the person who raised a concern adds to it later."""

    text = Text(INFORMATION_MAX, required=True)


INFORMATION = InformationSchema()


def _event_fields() -> dict[str, Parsed]:
    """Every event's data fields, from the workflow table (a field several events take accepts the union of their
    choices). Each event's own body is `workflow.row_schema()`, from the same table."""
    specs: dict[str, workflow.Field] = {}
    choices: dict[str, tuple[str, ...]] = {}
    for row in workflow.TRANSITIONS:
        for spec in row.fields:
            specs[spec.name] = spec
            known = choices.get(spec.name, ())
            choices[spec.name] = known + tuple(c for c in spec.choices if c not in known)
    return {name: spec.schema_field(choices=choices[name], required=False) for name, spec in specs.items()}


# The body of the transition endpoint: any event, with the data any event takes.
EVENT = Body.of({
    "event": Choice(tuple(workflow.EVENTS), required=True),
    "reason": Text(workflow.REASON_MAX, required=True),
    "version": Whole(),
    **_event_fields(),
}, name="EventSchema")


class RiskSchema(Body):
    police_called = Bool(required=True)
    note = Text(DESCRIPTION_MAX, required=True)
    police_incident_number = Text(REF_MAX)


RISK = RiskSchema()


class ActionSchema(Body):
    title = Text(TITLE_MAX, required=True)
    owner_id = Id(required=True)
    due_date = Date(required=True)


ACTION = ActionSchema()


class ActionUpdateSchema(Body):
    status = Choice((ActionStatus.done.value, ActionStatus.cancelled.value), required=True)
    completion_note = Text(ACTION_NOTE_MAX)  # required when done
    version = Whole()


ACTION_UPDATE = ActionUpdateSchema()


class NoteSchema(Body):
    kind = Choice(NOTE_KINDS, exact=True, required=True)
    text = Text(DESCRIPTION_MAX, required=True)
    source = Text(SHORT_MAX)


NOTE = NoteSchema()


class GrantSchema(Body):
    user_id = Id(required=True)
    reason = Text(GRANT_REASON_MAX, required=True)


GRANT = GrantSchema()


class RevokeSchema(Body):
    reason = Text(GRANT_REASON_MAX, required=True)


REVOKE = RevokeSchema()


class BreakGlassSchema(Body):
    reason = Text(BREAK_GLASS_REASON_MAX, required=True)


BREAK_GLASS = BreakGlassSchema()


# Beside the pathway (app/cases/parallel_referrals.py, referrer_safety.py): officers and the Lead only.
PARALLEL_KINDS = ("mash", "childrens_social_care", "adult_social_care", "lado", "hr", "other")
REFERRER_RISKS = ("none", "concern", "threat_received")


class ParallelReferralSchema(Body):
    """A copy of the concern sent to another safeguarding route (the MASH, social care, the LADO, HR...)."""

    kind = Choice(PARALLEL_KINDS, required=True)
    referred_on = Date(past=True, required=True)
    reference = Text(REF_MAX)
    note = Text(DESCRIPTION_MAX, required=True)


PARALLEL_REFERRAL = ParallelReferralSchema()


class ReferrerSafetySchema(Body):
    """The risk to the person who raised the concern (policy section 11); `measures` is needed with any risk."""

    risk = Choice(REFERRER_RISKS, required=True)
    police_informed = Bool(required=True)
    measures = Text(DESCRIPTION_MAX)


REFERRER_SAFETY = ReferrerSafetySchema()
