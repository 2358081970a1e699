"""The risk assessment's records: risks, their actions, and the signed-off versions. No commits here: the use cases
own them (app/risks/use_cases.py)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.models import ActionStatus
from app.kernel.columns import UTCDateTime, enum_column, utcnow

SCALE = range(1, 6)  # likelihood and impact: 1 (rare, minor) to 5 (almost certain, severe)


class RiskArea(StrEnum):
    """The areas of the Prevent duty guidance a provider assesses (issue 14, point 1)."""

    leadership_partnership = "leadership_partnership"
    staff_training = "staff_training"
    it_online_safety = "it_online_safety"
    speakers_events = "speakers_events"
    site_welfare = "site_welfare"
    subcontracted_provision = "subcontracted_provision"
    employers = "employers"
    regional_context = "regional_context"


class Rag(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"


def rag(likelihood: int, impact: int) -> Rag:
    """The one rule for a risk's RAG rating. The score is likelihood x impact (each 1 to 5, so 1 to 25):

    - green: a score of 1 to 6 (for example 2 x 3);
    - amber: 8 to 12 (for example 2 x 4, 3 x 3, 3 x 4);
    - red: 15 to 25 (for example 3 x 5, 4 x 4, 5 x 5).

    (No product of two numbers from 1 to 5 is 7, 13 or 14: the bands meet with no gap.)"""
    if likelihood not in SCALE or impact not in SCALE:
        raise ValueError("Likelihood and impact are each from 1 to 5.")
    score = likelihood * impact
    if score <= 6:
        return Rag.green
    if score <= 12:
        return Rag.amber
    return Rag.red


class Risk(Model):
    """One risk of the provider's Prevent risk assessment, as it stands now (the audit trail keeps every earlier
    value; a sign-off keeps the whole assessment as it stood, in RiskReview)."""

    __tablename__ = "risk"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint("likelihood BETWEEN 1 AND 5", name="ck_risk_likelihood"),
        sa.CheckConstraint("impact BETWEEN 1 AND 5", name="ck_risk_impact"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[RiskArea] = enum_column(RiskArea, index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    likelihood: Mapped[int]
    impact: Mapped[int]
    controls: Mapped[str | None] = mapped_column(sa.Text)  # the controls in place now
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    actions: Mapped[list[RiskAction]] = relationship(back_populates="risk", order_by="RiskAction.due_date, "
                                                                                     "RiskAction.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def rag(self) -> Rag:
        return rag(self.likelihood, self.impact)

    def __repr__(self) -> str:
        return self.title


class RiskAction(Model):
    """An action of the plan that follows from a risk: an owner (any active user), a due date, a status (open,
    done or cancelled) and, when done, a completion note. Overdue while open after its due date."""

    __tablename__ = "risk_action"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(sa.ForeignKey("risk.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    due_date: Mapped[date]
    status: Mapped[ActionStatus] = enum_column(ActionStatus, index=True)
    completion_note: Mapped[str | None] = mapped_column(sa.Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    risk: Mapped[Risk] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    __mapper_args__ = {"version_id_col": version}

    def overdue(self, today: date) -> bool:
        return self.status == ActionStatus.open and self.due_date < today


class RiskReview(Model):
    """A sign-off of the risk assessment by the Prevent Lead: the date, the note, and every risk with its actions as
    they stood (`snapshot`, JSON written once and never changed; its seal in the audit trail shows any change made
    behind the app's back)."""

    __tablename__ = "risk_review"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    signed_off_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    signed_off_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    note: Mapped[str] = mapped_column(sa.Text)
    snapshot: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)

    signed_off_by: Mapped[User] = relationship()
