"""How British values activities and Learner Voice surveys look in JSON."""
from __future__ import annotations

from typing import Any

from app.british_values.models import BritishValuesActivity, LearnerVoiceSurvey
from app.british_values.schemas import QUESTIONS
from app.kernel.formats import iso


def activity_json(activity: BritishValuesActivity) -> dict[str, Any]:
    return {"id": activity.id, "programme": activity.programme, "held_on": iso(activity.held_on),
            "value": activity.value.value, "description": activity.description, "evidence_ref": activity.evidence_ref,
            "has_evidence_file": activity.evidence_file_id is not None, "recorded_at": iso(activity.recorded_at)}


def survey_json(survey: LearnerVoiceSurvey) -> dict[str, Any]:
    return {"id": survey.id, "programme": survey.programme, "period_start": iso(survey.period_start),
            "period_end": iso(survey.period_end), "respondents": survey.respondents,
            "questions": {key: {"agree": getattr(survey, f"{key}_agree"), "total": getattr(survey, f"{key}_total")}
                          for key in QUESTIONS}, "recorded_at": iso(survey.recorded_at)}
