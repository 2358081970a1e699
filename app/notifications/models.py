"""Email: the outbox and each person's delivery preference."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow


class EmailStatus(StrEnum):
    queued = "queued"  # waiting for the worker (or for its next attempt)
    sending = "sending"  # claimed by a worker until `lease_until`; reclaimed after that if the worker died
    sent = "sent"
    held = "held"  # non-urgent, for a user who takes a daily digest: goes out inside the next digest
    digested = "digested"  # went out inside the digest `digest_id`
    failed = "failed"  # parked after too many failures: the Admin sees it and can retry


class OutboxEmail(Model):
    """An email, written in the same transaction as the change that causes it, and delivered after commit.

    Its Message-ID is fixed when it is queued, so that a redelivery after a worker died mid-send is recognisable as
    the same email. `dedupe_key` makes a reminder queue once only, however often the reminders job runs.
    """

    __tablename__ = "outbox_email"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    recipient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    to_address: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    status: Mapped[EmailStatus] = enum_column(EmailStatus, default=EmailStatus.queued)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_email.id"))

    recipient: Mapped[User | None] = relationship()


class NotificationPreference(Model):
    """Whether a user takes non-urgent email as one daily digest. Urgent email always goes at once."""

    __tablename__ = "notification_preference"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    daily_digest: Mapped[bool] = mapped_column(default=False)
