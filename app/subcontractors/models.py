"""Subcontractors: organisations that deliver programmes for the provider, with their named Prevent contact. Kept by
the Prevent Lead; retired (no longer offered), never deleted. Their staff are on the staff list
(StaffMember.subcontractor_id) and concerns about their learners name them (Subject.subcontractor_id)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.columns import UTCDateTime, utcnow


class Subcontractor(Model):
    __tablename__ = "subcontractor"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))  # their Prevent contact
    contact_email: Mapped[str | None] = mapped_column(sa.String(320))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(50))
    programmes: Mapped[str | None] = mapped_column(sa.Text)  # the programmes they deliver, one a line
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def programme_list(self) -> list[str]:
        return [line for line in (self.programmes or "").splitlines() if line.strip()]

    def __repr__(self) -> str:
        return self.name
