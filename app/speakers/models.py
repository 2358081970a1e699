"""A request to invite an external speaker or hold an event, and the decision on it. No commits here: the use cases
(app/speakers/use_cases.py) own them."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow
from app.kernel.models import StoredFile


class EventFormat(StrEnum):
    online = "online"
    in_person = "in_person"


class SpeakerDecision(StrEnum):
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    declined = "declined"


class SpeakerRisk(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


def speaker_key(name: str) -> str:
    """A speaker's name as compared: case and spacing aside ("Dr  Jane SMITH" is "dr jane smith")."""
    return " ".join(name.split()).casefold()


class SpeakerRequest(Model):
    """Asked by any employee; decided once by an officer or the Lead who did not ask (the decision fields stay empty
    until then). `speaker_key` finds the same speaker's earlier requests however the name was typed."""

    __tablename__ = "speaker_request"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    speaker: Mapped[str] = mapped_column(sa.String(200))
    speaker_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    topic: Mapped[str] = mapped_column(sa.String(300))
    event_date: Mapped[date] = mapped_column(index=True)
    audience: Mapped[str] = mapped_column(sa.String(300))
    format: Mapped[EventFormat] = enum_column(EventFormat)
    materials: Mapped[str | None] = mapped_column(sa.Text)
    materials_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))  # from the page
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The check and the decision
    decision: Mapped[SpeakerDecision | None] = enum_column(SpeakerDecision, nullable=True, index=True)
    checks: Mapped[str | None] = mapped_column(sa.Text)  # what was checked (searches, references, the materials)
    risk: Mapped[SpeakerRisk | None] = enum_column(SpeakerRisk, nullable=True)
    conditions: Mapped[str | None] = mapped_column(sa.Text)  # such as a chair present, or a recording
    reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(default=1)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    materials_file: Mapped[StoredFile | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def decided(self) -> bool:
        return self.decision is not None
