"""British values and Learner Voice (issue 14, point 5; the provider's policy, sections 2 and 9).

Programme teams log what promotes British values in their programmes and the results of Learner Voice surveys:
Programme Directors and the Prevent Lead (`can_log BritishValues`), who read every entry (`can_read`). Safeguarding
Officers do not: this is curriculum evidence, not casework. Governance reads the figures per programme only
(`can_read_summary`), with a question's results withheld where fewer than 5 learners answered it (a learner's own
answer could be told), as anyone reading figures only sees them; the evidence pack's figures are made the same way.

A programme is named as typed (trimmed, one space between words) and grouped regardless of case.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy.orm import Session

from app.british_values.models import BritishValue, BritishValuesActivity, LearnerVoiceSurvey
from app.british_values.schemas import ACTIVITY, EVIDENCE_TYPES, MOST_RESPONDENTS, QUESTIONS, SURVEY
from app.governance.suppression import WITHHELD, is_small
from app.kernel import audit, files
from app.kernel.errors import Forbidden, NotFound
from app.kernel.schemas import Loaded
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import StoredFile, utcnow


def programme_name(text: str) -> str:
    return " ".join(text.split())


def _evidence_file(actor, form: Loaded) -> StoredFile | None:
    upload = form["evidence"]
    if upload is None:
        return None
    data = upload.stream.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
    try:
        return files.stored_file(upload.filename, data, actor.id, kinds=EVIDENCE_TYPES)
    except ValueError as exc:
        form.error("evidence", str(exc))
        return None


def log_activity(actor, payload: Any) -> BritishValuesActivity:
    """An activity that promoted a British value (`evidence`: a file uploaded on the page)."""
    if not can(actor, "can_log", "BritishValues"):
        raise Forbidden()
    with unit_of_work("activity") as session:
        form = ACTIVITY.read(payload)
        evidence = _evidence_file(actor, form)
        form.check()
        if evidence is not None:
            session.add(evidence)
            session.flush()
            audit.record(session, actor, "upload_british_values_evidence", evidence)
        activity = BritishValuesActivity(
            programme=programme_name(form["programme"]), held_on=form["held_on"], value=BritishValue(form["value"]),
            description=form["description"], evidence_ref=form["evidence_ref"], evidence_file=evidence,
            recorded_by_id=actor.id, recorded_at=utcnow())
        session.add(activity)
        session.flush()
        audit.record(session, actor, "log_british_values_activity", activity)
        return activity


def _survey_values(form: Loaded) -> dict[str, Any]:
    respondents = form["respondents"]
    if respondents is not None and not 1 <= respondents <= MOST_RESPONDENTS:
        form.error("respondents", f"Enter how many learners answered: 1 to {MOST_RESPONDENTS}.")
        respondents = None
    start, end = form["period_start"], form["period_end"]
    if start and end and end < start:
        form.error("period_end", "The end of the survey must not be before its start.")
    values: dict[str, Any] = {"programme": programme_name(form["programme"] or ""), "period_start": start,
                              "period_end": end, "respondents": respondents}
    asked = 0
    for key in QUESTIONS:
        agree_key, total_key = f"{key}_agree", f"{key}_total"
        if agree_key in form.errors or total_key in form.errors:
            continue
        agree, total = form[agree_key], form[total_key]
        if agree is None and total is None:
            values[agree_key] = values[total_key] = None
            continue
        asked += 1
        if total is None:
            form.error(total_key, "Enter how many answered this question.")
        elif agree is None:
            form.error(agree_key, "Enter how many agreed.")
        elif total < 0 or agree < 0:
            form.error(agree_key if agree < 0 else total_key, "Enter 0 or more.")
        elif agree > total:
            form.error(agree_key, "More cannot agree than answered the question.")
        elif respondents is not None and total > respondents:
            form.error(total_key, "More cannot answer a question than answered the survey.")
        values[agree_key], values[total_key] = agree, total
    if not asked and not any(f"{key}_{part}" in form.errors for key in QUESTIONS for part in ("agree", "total")):
        form.error(f"{next(iter(QUESTIONS))}_total", "Give the results of at least one question.")
    return values


def log_survey(actor, payload: Any) -> LearnerVoiceSurvey:
    """The results of a Learner Voice survey of one programme."""
    if not can(actor, "can_log", "BritishValues"):
        raise Forbidden()
    with unit_of_work("survey") as session:
        form = SURVEY.read(payload)
        values = _survey_values(form)
        form.check()
        survey = LearnerVoiceSurvey(**values, recorded_by_id=actor.id, recorded_at=utcnow())
        session.add(survey)
        session.flush()
        audit.record(session, actor, "log_learner_voice_survey", survey)
        return survey


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, to today."""
    today = today or date.today()
    return today - relativedelta(years=1) + relativedelta(days=1), today


def activities(session: Session, actor, start: date, end: date) -> Sequence[BritishValuesActivity]:
    if not can(actor, "can_read", "BritishValues"):
        raise Forbidden()
    return session.scalars(sa.select(BritishValuesActivity)
                           .where(BritishValuesActivity.held_on.between(start, end))
                           .order_by(BritishValuesActivity.held_on.desc(), BritishValuesActivity.id.desc())).all()


def surveys(session: Session, actor, start: date, end: date) -> Sequence[LearnerVoiceSurvey]:
    if not can(actor, "can_read", "BritishValues"):
        raise Forbidden()
    return session.scalars(sa.select(LearnerVoiceSurvey).where(LearnerVoiceSurvey.period_end.between(start, end))
                           .order_by(LearnerVoiceSurvey.period_end.desc(), LearnerVoiceSurvey.id.desc())).all()


def evidence_download(session: Session, actor, activity_id: int) -> StoredFile:
    if not can(actor, "can_read", "BritishValues"):
        raise Forbidden()
    activity = session.get(BritishValuesActivity, activity_id)
    if activity is None or activity.evidence_file is None:
        raise NotFound("evidence")
    return activity.evidence_file


# --- figures per programme ----------------------------------------------------------------------------------------

@dataclass
class Answer:
    """A question's results over a programme's surveys: agreed out of answered; "withheld" for a reader of figures
    only where 1 to 4 answered."""

    agree: int | str = 0
    total: int | str = 0

    @property
    def percent(self) -> float | str | None:
        if self.total == WITHHELD:
            return WITHHELD
        assert isinstance(self.agree, int) and isinstance(self.total, int)
        return round(100 * self.agree / self.total, 1) if self.total else None


@dataclass
class Programme:
    name: str
    activities: dict[str, int] = field(default_factory=lambda: {value.value: 0 for value in BritishValue})
    surveys: int = 0
    respondents: int = 0
    answers: dict[str, Answer] = field(default_factory=lambda: {key: Answer() for key in QUESTIONS})

    @property
    def activity_count(self) -> int:
        return sum(self.activities.values())


@dataclass
class Summary:
    start: date
    end: date
    programmes: list[Programme]
    totals: dict[str, int]  # activities per value, every programme
    figures_only: bool  # small results withheld


def summary(session: Session, actor, start: date, end: date, *, figures_only: bool | None = None) -> Summary:
    """Per programme: activities per British value held in the period, and the Learner Voice results of the surveys
    that ended in it (agreed, answered, percent per question). `figures_only` withholds the results of a question
    1 to 4 learners answered; it is the case for any reader who may not read the entries themselves."""
    if not can(actor, "can_read_summary", "BritishValues"):
        raise Forbidden()
    if figures_only is None:
        figures_only = not can(actor, "can_read", "BritishValues")
    programmes: dict[str, Programme] = {}

    def programme(name: str) -> Programme:
        return programmes.setdefault(name.lower(), Programme(name))

    counted = session.execute(
        sa.select(BritishValuesActivity.programme, BritishValuesActivity.value, sa.func.count())
        .where(BritishValuesActivity.held_on.between(start, end))
        .group_by(BritishValuesActivity.programme, BritishValuesActivity.value)
        .order_by(BritishValuesActivity.programme, BritishValuesActivity.value)).all()
    totals = {value.value: 0 for value in BritishValue}
    for name, value, count in counted:
        programme(name).activities[BritishValue(value).value] += count
        totals[BritishValue(value).value] += count
    raw: dict[str, dict[str, list[int]]] = {}
    for survey in session.scalars(sa.select(LearnerVoiceSurvey)
                                  .where(LearnerVoiceSurvey.period_end.between(start, end))
                                  .order_by(LearnerVoiceSurvey.id)):
        group = programme(survey.programme)
        group.surveys += 1
        group.respondents += survey.respondents
        sums = raw.setdefault(survey.programme.lower(), {key: [0, 0] for key in QUESTIONS})
        for key in QUESTIONS:
            agree, total = getattr(survey, f"{key}_agree"), getattr(survey, f"{key}_total")
            if total is not None:
                sums[key][0] += agree or 0
                sums[key][1] += total
    for lowered, sums in raw.items():
        for key, (agree, total) in sums.items():
            hide = figures_only and is_small(total)
            programmes[lowered].answers[key] = Answer(WITHHELD if hide else agree, WITHHELD if hide else total)
    ordered = sorted(programmes.values(), key=lambda p: p.name.lower())
    return Summary(start, end, ordered, totals, figures_only)


def summary_json(result: Summary) -> dict[str, Any]:
    return {
        "from": result.start.isoformat(), "to": result.end.isoformat(), "small_results_withheld": result.figures_only,
        "activities_by_value": result.totals,
        "programmes": [{
            "programme": p.name, "activities": p.activities, "activity_count": p.activity_count,
            "learner_voice": {"surveys": p.surveys, "respondents": p.respondents, "questions": {
                key: {"statement": QUESTIONS[key], "agree": answer.agree, "total": answer.total,
                      "percent": answer.percent} for key, answer in p.answers.items()}},
        } for p in result.programmes],
    }


def evidence(session: Session, actor, start: date, end: date) -> dict[str, Any]:
    """British values and Learner Voice for the evidence pack (issue 14, point 7): per programme, the activities held
    in the period by British value, and the Learner Voice percentages per question of the surveys that ended in it.
    Figures only (no description, no one's name); a question 1 to 4 learners answered is "withheld", whoever asks.
    Forbidden without `can_read_summary BritishValues`."""
    return summary_json(summary(session, actor, start, end, figures_only=True))
