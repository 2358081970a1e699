"""Oversight's records: the access log, its alerts, and periodic case reviews."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, utcnow


class AccessLogEntry(Model):
    """Every time someone opens a case (page or API) or exports it: who, when, how, and whether it was their work.
    Append-only, and an HMAC chain of its own (`seq`, `prev_hash`, `hash`, written by app/kernel/audit.py)."""

    __tablename__ = "access_log"
    __table_args__ = (sa.Index("ix_access_log_user_at", "user_id", "at"),
                      sa.UniqueConstraint("seq", name="uq_access_log_seq"),
                      sa.UniqueConstraint("prev_hash", name="uq_access_log_prev_hash"),
                      sa.UniqueConstraint("hash", name="uq_access_log_hash"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # page, api, export
    what: Mapped[str] = mapped_column(sa.String(32))  # case, chronology, audit, export_pdf, export_csv ...
    # Not the reporter, nobody who has written on the case, owned an action on it or been granted it.
    outside_own_work: Mapped[bool] = mapped_column(default=False)
    seq: Mapped[int | None]
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship()


class AccessAlert(Model):
    """A user opened many cases outside their own work in a short time: shown to the Prevent Lead."""

    __tablename__ = "access_alert"
    id: Mapped[int] = mapped_column(primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    cases_opened: Mapped[int]
    window_minutes: Mapped[int]

    user: Mapped[User] = relationship()


class CaseReview(Model):
    """The Prevent Lead's periodic review of an open case."""

    __tablename__ = "case_review"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    reviewed_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.Text)
    next_review_due: Mapped[date] = mapped_column(index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship()

    @property
    def audit_case_id(self) -> int:
        return self.case_id
