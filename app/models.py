"""SQLAlchemy models and enums. No commits and no Flask request objects here: services own both."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from app.validation import LARGEST_INT

REFERENCE_PREFIX = "PC"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no time zone and PostgreSQL's would be the server's."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times are stored in UTC and must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def enum_column(enum_cls: type[enum.Enum], **kwargs):
    # Stored as plain strings with a CHECK constraint: portable, readable in SQL, and extendable by a migration.
    return mapped_column(
        sa.Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
                validate_strings=True, create_constraint=True, name=f"ck_{enum_cls.__name__.lower()}"),
        **kwargs,
    )


class SubjectType(StrEnum):
    learner = "learner"
    staff = "staff"
    public = "public"
    subcontractor_learner = "subcontractor_learner"


class CaseStatus(StrEnum):
    reported = "reported"
    under_review = "under_review"
    referred_to_police = "referred_to_police"
    police_led = "police_led"
    channel_screening = "channel_screening"
    channel_panel = "channel_panel"
    channel_support = "channel_support"
    post_exit_review = "post_exit_review"
    closed = "closed"


class ClosureOutcome(StrEnum):
    no_further_action = "no_further_action"
    internal_safeguarding = "internal_safeguarding"
    signposted = "signposted"
    police_no_further_action = "police_no_further_action"
    police_closed = "police_closed"
    screened_out = "screened_out"
    not_adopted = "not_adopted"
    consent_declined = "consent_declined"
    support_completed = "support_completed"


class IndicatorKind(StrEnum):
    contributory_factor = "contributory_factor"
    vulnerability = "vulnerability"
    indicator = "indicator"


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


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


class StoredFile(Model):
    """An uploaded file, kept in the database so that it is backed up, restored and erased with the records."""

    __tablename__ = "stored_file"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class StaffMember(Model):
    """An employee who must be trained in the Prevent duty: with a sign-in (user) or imported without one."""

    __tablename__ = "staff_member"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320), unique=True)
    employee_ref: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    team: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    active: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    training: Mapped[list[TrainingRecord]] = relationship(back_populates="staff_member",
                                                            order_by="TrainingRecord.completed_on.desc()")


class TrainingCourse(Model):
    """Seeded with the Home Office Prevent duty eLearning, Channel awareness and a refresher; extendable."""

    __tablename__ = "training_course"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return self.name


class TrainingRecord(Model):
    __tablename__ = "training_record"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("staff_member_id", "course_id", "completed_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_member.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_course.id"))
    completed_on: Mapped[date]
    certificate_ref: Mapped[str | None] = mapped_column(sa.String(100))
    certificate_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    refresher_due: Mapped[date] = mapped_column(index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_member: Mapped[StaffMember] = relationship(back_populates="training")
    course: Mapped[TrainingCourse] = relationship()
    certificate_file: Mapped[StoredFile | None] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class ConcernType(Model):
    """Home Office statistics categories, seeded and extendable by an administrator."""

    __tablename__ = "concern_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(200), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return self.label


class Indicator(Model):
    """The provider's vulnerability table (policy section 7): offered as checkboxes on the concern form."""

    __tablename__ = "indicator"
    __table_args__ = (sa.UniqueConstraint("kind", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IndicatorKind] = enum_column(IndicatorKind)
    label: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return self.label


class Subject(Model):
    __tablename__ = "subject"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    subject_type: Mapped[SubjectType] = enum_column(SubjectType)
    date_of_birth: Mapped[date | None]
    programme: Mapped[str | None] = mapped_column(sa.String(200))
    employer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employer.id"))
    learner_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Lower-cased, space-folded name: finds earlier concerns about the same person under another record.
    name_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    # Retention (app/services/retention.py). A staff subject's leaving date comes from the staff record linked here.
    staff_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_member.id"))
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    legal_hold_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Set by `flask retention run` when the records fell due: awaiting the Prevent Lead's approval until approved.
    erasure_due_on: Mapped[date | None]
    erasure_rule: Mapped[str | None] = mapped_column(sa.String(32))
    erasure_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    erasure_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    employer: Mapped[Employer | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    staff_member: Mapped[StaffMember | None] = relationship()

    @staticmethod
    def make_name_key(full_name: str) -> str:
        return " ".join(full_name.lower().split())


case_indicator = sa.Table(
    "case_indicator",
    Model.metadata,
    sa.Column("case_id", sa.ForeignKey("prevent_case.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("indicator_id", sa.ForeignKey("indicator.id"), primary_key=True),
)


class Case(Model):
    __tablename__ = "prevent_case"
    __audited__ = True
    __table_args__ = (
        sa.Index("ix_case_status_urgent", "status", "urgent"),
        sa.CheckConstraint("(status = 'closed') = (closure_outcome IS NOT NULL)", name="ck_case_closed_has_outcome"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    # The concern as raised
    description: Mapped[str] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    concern_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("concern_type.id"))
    immediate_danger: Mapped[bool] = mapped_column(default=False)
    police_called: Mapped[bool] = mapped_column(default=False)
    police_incident_number: Mapped[str | None] = mapped_column(sa.String(64))
    action_taken: Mapped[str | None] = mapped_column(sa.Text)
    dso_informed_verbally: Mapped[bool] = mapped_column(default=False)
    # State: written only by services.transition (and the immediate-risk service for `urgent`)
    status: Mapped[CaseStatus] = enum_column(CaseStatus, default=CaseStatus.reported)
    closure_outcome: Mapped[ClosureOutcome | None] = enum_column(ClosureOutcome, nullable=True)
    urgent: Mapped[bool] = mapped_column(default=False)
    # Concerns about colleagues: need-to-know, visible only to those granted access (the Prevent Lead is granted it
    # when the concern is raised) and to a Lead who breaks glass (app/security.py, `full_access_clause`).
    restricted: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    # Share: referral and the police gateway
    referral_date: Mapped[date | None]
    subject_informed: Mapped[bool | None]
    police_reference: Mapped[str | None] = mapped_column(sa.String(64))
    parallel_safeguarding_referral: Mapped[bool | None]
    gateway_outcome: Mapped[str | None] = mapped_column(sa.String(32))
    gateway_decided_on: Mapped[date | None]
    # Channel
    panel_date: Mapped[date | None]
    local_authority: Mapped[str | None] = mapped_column(sa.String(200))
    panel_decision: Mapped[str | None] = mapped_column(sa.String(32))
    consent: Mapped[str | None] = mapped_column(sa.String(32))
    vaf_summary: Mapped[str | None] = mapped_column(sa.Text)
    intervention_provider: Mapped[str | None] = mapped_column(sa.String(200))
    next_review_date: Mapped[date | None]
    exit_date: Mapped[date | None]
    exit_reason: Mapped[str | None] = mapped_column(sa.Text)

    subject: Mapped[Subject] = relationship()
    reporter: Mapped[User] = relationship()
    concern_type: Mapped[ConcernType | None] = relationship()
    indicators: Mapped[list[Indicator]] = relationship(secondary=case_indicator, order_by=Indicator.position)
    actions: Mapped[list[CaseAction]] = relationship(back_populates="case", order_by="CaseAction.due_date")

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_case_id(self) -> int:
        return self.id

    @property
    def reference(self) -> str:
        return format_reference(self.id, self.recorded_at)

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.closed


def format_reference(case_id: int, recorded_at: datetime) -> str:
    return f"{REFERENCE_PREFIX}-{recorded_at.year}-{case_id:04d}"


def parse_reference(reference: str) -> int | None:
    """The case id in a reference; None when it is not one, or its number is beyond any id (the query would fail)."""
    parts = reference.strip().upper().split("-")
    if len(parts) == 3 and parts[0] == REFERENCE_PREFIX and parts[2].isdigit() and int(parts[2]) <= LARGEST_INT:
        return int(parts[2])
    return None


class CaseEntry(Model):
    """One line of a case's chronology: the narrative officers read, in time order. Audited by the event of the
    change it tells on its case (app/audit.py), which seals it."""

    __tablename__ = "case_entry"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    summary: Mapped[str] = mapped_column(sa.String(300))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str | None] = mapped_column(sa.String(32))
    data: Mapped[dict | None] = mapped_column(sa.JSON)

    actor: Mapped[User] = relationship()

    @property
    def audit_case_id(self) -> int:
        return self.case_id


def stalled_clause(now: datetime, stalled_after_days: int) -> sa.ColumnElement[bool]:
    """Open cases with no chronology entry for `stalled_after_days`: flagged on the list, the page and in digests."""
    cutoff = now - timedelta(days=stalled_after_days)
    recent = aliased(CaseEntry)  # an alias of its own, so that a query already joining CaseEntry can use this too
    return sa.and_(Case.status != CaseStatus.closed,
                   ~sa.exists().where(recent.case_id == Case.id, recent.at >= cutoff))


class CaseAction(Model):
    __tablename__ = "case_action"
    __audited__ = True
    __table_args__ = (sa.Index("ix_case_action_open_due", "status", "due_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    due_date: Mapped[date]
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.open)
    completion_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_case_id(self) -> int:
        return self.case_id

    def is_overdue(self, today: date) -> bool:
        return self.status == ActionStatus.open and self.due_date < today


class CaseAccessGrant(Model):
    """An officer or the Prevent Lead granted access to a restricted case (a concern about a colleague). The Lead is
    granted it by the raising of the concern (granted_by is then the reporter)."""

    __tablename__ = "case_access_grant"
    __audited__ = True
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), primary_key=True)
    granted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_case_id(self) -> int:
        return self.case_id


class BreakGlass(Model):
    """The Prevent Lead opened a restricted case outside their normal access, saying why: it gives them access until
    `expires_at`, and is shown to everyone who can see the case (app/services/access.py)."""

    __tablename__ = "break_glass"
    __audited__ = True
    __table_args__ = (sa.Index("ix_break_glass_case_user", "case_id", "user_id", "expires_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def audit_case_id(self) -> int:
        return self.case_id


class AuditEvent(Model):
    """Append-only (database triggers refuse UPDATE and DELETE) and HMAC-chained: see app/audit.py."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # assigned by app/audit.py
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(64))
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    case_id: Mapped[int | None] = mapped_column(index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    changes: Mapped[dict | None] = mapped_column(sa.JSON)
    # Each event names its predecessor's hash; UNIQUE makes a fork (two events claiming one predecessor) impossible.
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The records' state after the change, per record ("Case/42"): an HMAC of its row, or "deleted". NULL in events
    # written before records were sealed.
    seals: Mapped[dict | None] = mapped_column(sa.JSON)


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


class IdempotencyKey(Model):
    """A request that must take effect once: an API POST's Idempotency-Key, or a page form's one-time token. Written in
    the transaction of the work it guards, so that it commits with that work or not at all; then it keeps the answer,
    which the same request sent again gets instead of a second effect. A second request with the key at the same
    time waits on the unique constraint for the first to commit, then finds this row."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the request: method, path and body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status_code: Mapped[int | None]
    answer: Mapped[str | None] = mapped_column(sa.Text)  # the JSON body, or where a page redirected to


class NotificationPreference(Model):
    """Whether a user takes non-urgent email as one daily digest. Urgent email always goes at once."""

    __tablename__ = "notification_preference"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    daily_digest: Mapped[bool] = mapped_column(default=False)


class AccessLogEntry(Model):
    """Every time someone opens a case (page or API) or exports it: who, when, how, and whether it was their work.
    Append-only, and an HMAC chain of its own (`seq`, `prev_hash`, `hash`, written by app/audit.py)."""

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


class AccountState(Model):
    """Per user, beside FAB's ab_user (left as FAB made it): the session version and the sign-in lockout.

    Every session cookie and API token carries the version it was issued under; raising it (app/sessions.py) ends all
    of the user's sessions and tokens at once. `locked_until` is set by repeated failed sign-ins (app/sign_in.py). Both
    live in the database so that they hold across every worker. A user without a row is at version 0, not locked.
    """

    __tablename__ = "account_state"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    session_version: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefreshToken(Model):
    """An API refresh token issued at sign-in, by its JWT id: refused once not used for SESSION_IDLE_MINUTES
    (app/sessions.py), as a web session is."""

    __tablename__ = "api_refresh_token"
    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SecondFactor(Model):
    """A user's TOTP second factor, kept apart from FAB's ab_user. `enrolled_at` is empty until the user confirms the
    secret with a code; `last_step` is the last time-step accepted, so that each code is accepted once only."""

    __tablename__ = "mfa_totp"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    secret_sealed: Mapped[str] = mapped_column(sa.String(255))  # encrypted (app/services/mfa.py), never plain
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class RecoveryCode(Model):
    """One single-use recovery code, stored as its SHA-256 (the codes are 80 random bits: a slow hash adds nothing)."""

    __tablename__ = "mfa_recovery_code"
    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash", name="uq_mfa_recovery_code_user_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleGrantStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


class RoleGrantRequest(Model):
    """An Admin's request to give someone the Prevent Lead or Safeguarding Officer role: it takes effect only when a
    second person (another Admin, or the Prevent Lead) approves it (app/services/accounts.py)."""

    __tablename__ = "role_grant_request"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    role_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_role.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[RoleGrantStatus] = enum_column(RoleGrantStatus, default=RoleGrantStatus.pending, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    role: Mapped[Role] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
