"""British values activities and Learner Voice survey results, per programme."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow
from app.kernel.models import StoredFile


class BritishValue(StrEnum):
    """The fundamental British values of the Prevent duty guidance."""

    democracy = "democracy"
    rule_of_law = "rule_of_law"
    individual_liberty = "individual_liberty"
    mutual_respect = "mutual_respect"  # mutual respect and tolerance of those of different faiths and beliefs


class BritishValuesActivity(Model):
    """Something a programme did that promotes a British value: a session, a review discussion, a visit."""

    __tablename__ = "british_values_activity"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    programme: Mapped[str] = mapped_column(sa.String(200), index=True)
    held_on: Mapped[date] = mapped_column(index=True)
    value: Mapped[BritishValue] = enum_column(BritishValue)
    description: Mapped[str] = mapped_column(sa.Text)
    evidence_ref: Mapped[str | None] = mapped_column(sa.String(500))  # a link or where the evidence is kept
    evidence_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    evidence_file: Mapped[StoredFile | None] = relationship()


class LearnerVoiceSurvey(Model):
    """The results of one Learner Voice survey of a programme's learners: how many answered, and for each question
    asked, how many answered it and how many agreed. Counts only: no learner's answers."""

    __tablename__ = "learner_voice_survey"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    programme: Mapped[str] = mapped_column(sa.String(200), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date] = mapped_column(index=True)
    respondents: Mapped[int]
    # The questions (app/british_values/schemas.py QUESTIONS): agreed and answered, both NULL when not asked.
    feel_safe_agree: Mapped[int | None]
    feel_safe_total: Mapped[int | None]
    british_values_agree: Mapped[int | None]
    british_values_total: Mapped[int | None]
    know_how_to_report_agree: Mapped[int | None]
    know_how_to_report_total: Mapped[int | None]
    respected_agree: Mapped[int | None]
    respected_total: Mapped[int | None]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
