"""Monitoring sources (the provider's web filtering and monitoring systems, each with its own key) and the alerts they
send (KCSIE's filtering and monitoring standards: alerts reach the safeguarding team). No commits here: use cases own
them (app/monitoring/use_cases.py)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow

SOURCE_NAME_MAX = 80
SOURCE_ALERT_ID_MAX = 100


class AlertSeverity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class AlertState(StrEnum):
    awaiting_triage = "awaiting_triage"
    concern_raised = "concern_raised"
    dismissed = "dismissed"


class MonitoringSource(Model):
    """A system allowed to send alerts. Its key is shown once, when the source is added; only the key's SHA-256 is
    kept (a key is 256 random bits: no salt or slow hash is needed to keep it from being guessed back). Revoked, never
    deleted: its alerts keep naming it."""

    __tablename__ = "monitoring_source"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(SOURCE_NAME_MAX), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(sa.String(8))  # the key's first characters, to tell keys apart
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(sa.String(100))  # a username, or "cli:<operator>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return self.name


class MonitoringAlert(Model):
    """One alert, as its source sent it, and how it was triaged: a concern raised from it (`case_id`), or dismissed
    with a reason. A source's own id for the alert (`source_alert_id`) is unique per source: the same alert sent
    twice is one row."""

    __tablename__ = "monitoring_alert"
    __audited__ = True
    __table_args__ = (
        sa.UniqueConstraint("source_id", "source_alert_id", name="uq_monitoring_alert_source_alert"),
        sa.Index("ix_monitoring_alert_state_received", "state", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("monitoring_source.id"))
    source_alert_id: Mapped[str] = mapped_column(sa.String(SOURCE_ALERT_ID_MAX))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_name: Mapped[str] = mapped_column(sa.String(200))  # the user of the device, as the source names them
    category: Mapped[str] = mapped_column(sa.String(200))
    severity: Mapped[AlertSeverity] = enum_column(AlertSeverity)
    excerpt: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[AlertState] = enum_column(AlertState, default=AlertState.awaiting_triage)
    triaged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismiss_reason: Mapped[str | None] = mapped_column(sa.Text)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    source: Mapped[MonitoringSource] = relationship()
    triaged_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_case_id(self) -> int | None:
        return self.case_id
