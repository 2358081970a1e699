"""Partner employers, their communication log and its attachments."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow
from app.kernel.models import StoredFile


class CommunicationMethod(StrEnum):
    email = "email"
    meeting = "meeting"
    call = "call"
    letter = "letter"


class SharedItem(StrEnum):
    policy = "policy"  # the provider's Prevent policy
    briefing = "briefing"
    contacts = "contacts"  # the named Safeguarding contacts
    other = "other"


class AttachmentKind(StrEnum):
    briefing = "briefing"
    signed_acknowledgement = "signed_acknowledgement"
    other = "other"


class Employer(Model):
    """A partner employer of apprentices, kept by its responsible Programme Director."""

    __tablename__ = "employer"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    address: Mapped[str | None] = mapped_column(sa.Text)
    sector: Mapped[str | None] = mapped_column(sa.String(100))
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(320))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(50))
    director_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    director: Mapped[User | None] = relationship()
    communications: Mapped[list[EmployerCommunication]] = relationship(
        back_populates="employer", order_by="EmployerCommunication.occurred_on.desc()")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return self.name


class EmployerCommunication(Model):
    """One contact with an employer about the Prevent duty: what was shared, and whether it was acknowledged."""

    __tablename__ = "employer_communication"
    __audited__ = True
    __table_args__ = (sa.Index("ix_employer_communication_employer_date", "employer_id", "occurred_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(sa.ForeignKey("employer.id"))
    occurred_on: Mapped[date]
    method: Mapped[CommunicationMethod] = enum_column(CommunicationMethod)
    shared: Mapped[list] = mapped_column(sa.JSON, default=list)  # SharedItem values
    summary: Mapped[str | None] = mapped_column(sa.Text)
    acknowledged_on: Mapped[date | None]
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(200))
    next_contact_due: Mapped[date]
    # Set when the awareness email carries a single-use acknowledgement link; cleared once the link is used.
    ack_nonce: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    outbox_email_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_email.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    version: Mapped[int] = mapped_column(default=1)

    employer: Mapped[Employer] = relationship(back_populates="communications")
    created_by: Mapped[User] = relationship()
    attachments: Mapped[list[CommunicationAttachment]] = relationship(back_populates="communication")

    __mapper_args__ = {"version_id_col": version}


class CommunicationAttachment(Model):
    __tablename__ = "communication_attachment"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    communication_id: Mapped[int] = mapped_column(sa.ForeignKey("employer_communication.id"), index=True)
    kind: Mapped[AttachmentKind] = enum_column(AttachmentKind)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"))

    communication: Mapped[EmployerCommunication] = relationship(back_populates="attachments")
    file: Mapped[StoredFile] = relationship()
