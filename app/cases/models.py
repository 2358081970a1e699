"""Cases and what hangs off them: subjects, the reference data a concern is coded with, the chronology,
actions, and need-to-know access (grants and break-glass). No commits here: use cases own them."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from app.employers.models import Employer
from app.kernel.columns import UTCDateTime, enum_column, utcnow
from app.kernel.models import StoredFile
from app.kernel.validation import LARGEST_INT
from app.subcontractors.models import Subcontractor
from app.training.models import StaffMember

REFERENCE_PREFIX = "PC"


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
    onward_support = "onward_support"  # not adopted or consent declined, and referred on to other support
    support_completed = "support_completed"


class IndicatorKind(StrEnum):
    contributory_factor = "contributory_factor"
    vulnerability = "vulnerability"
    indicator = "indicator"


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class StatisticsCategory(Model):
    """A category the Home Office counts referrals by, in one scheme ("pre-2025" or "PCMT 2025":
    app/cases/statistics_schemes.py). Seeded; an administrator can add more."""

    __tablename__ = "statistics_category"
    __table_args__ = (sa.UniqueConstraint("scheme", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(sa.String(32))
    label: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"{self.label} ({self.scheme})"


class ConcernType(Model):
    """A type of concern an officer codes a concern with, seeded and extendable by an administrator. It maps to the
    Home Office category of each scheme, so one concern is counted both ways; a retired type (active false) stays on
    the cases coded with it and is no longer offered."""

    __tablename__ = "concern_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(200), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    pre_2025_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("statistics_category.id"))
    pcmt_2025_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("statistics_category.id"))

    pre_2025_category: Mapped[StatisticsCategory | None] = relationship(foreign_keys=[pre_2025_category_id])
    pcmt_2025_category: Mapped[StatisticsCategory | None] = relationship(foreign_keys=[pcmt_2025_category_id])

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
    # For a subcontractor's learner: which subcontractor (app/subcontractors), when the reporter says.
    subcontractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subcontractor.id"), index=True)
    learner_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Lower-cased, space-folded name: finds earlier concerns about the same person under another record.
    name_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    # Retention (app/governance/retention.py). A staff subject's leaving date comes from the staff record linked here.
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
    subcontractor: Mapped[Subcontractor | None] = relationship()

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
    # when the concern is raised) and to a Lead who breaks glass (app/kernel/security.py, `full_access_clause`).
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
    consent_by: Mapped[str | None] = mapped_column(sa.String(32))  # subject or parent_carer
    onward: Mapped[str | None] = mapped_column(sa.String(32))  # after not adopted or consent declined
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
    people_involved: Mapped[list[PersonInvolved]] = relationship(order_by="PersonInvolved.id", viewonly=True)

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
    change it tells on its case (app/kernel/audit.py), which seals it."""

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
    `expires_at`, and is shown to everyone who can see the case (app/cases/access.py)."""

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


class CaseAttachment(Model):
    """A file on a concern (a photo, a screenshot, a PDF), added at raising or later by its reporter or an officer.
    The reporter sees only the files they added; officers see every one. Erased by retention with the case."""

    __tablename__ = "case_attachment"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"))
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[StoredFile] = relationship()
    added_by: Mapped[User] = relationship()

    @property
    def audit_case_id(self) -> int:
        return self.case_id


class PersonInvolved(Model):
    """Someone else involved in a concern (optional, several): their name, their role (a learner, a tutor, a
    visitor...) and their relationship to the person of concern. Erased by retention with the case."""

    __tablename__ = "case_person_involved"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str | None] = mapped_column(sa.String(200))
    relation: Mapped[str | None] = mapped_column("relationship", sa.String(200))  # to the person of concern

    @property
    def audit_case_id(self) -> int:
        return self.case_id
