"""What officers record on a case beside the pathway, never shown to the person who raised the concern: parallel
safeguarding referrals (a copy to the MASH, social care, the LADO, the HR manager...) and the safety of the referrer
(policy section 11). No commits here: use cases own them (app/cases/parallel_referrals.py, referrer_safety.py)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.models import Case
from app.kernel.columns import UTCDateTime, enum_column, utcnow


class ParallelReferralKind(StrEnum):
    mash = "mash"  # the children's safeguarding front door (Multi-Agency Safeguarding Hub)
    childrens_social_care = "childrens_social_care"
    adult_social_care = "adult_social_care"
    lado = "lado"  # the Local Authority Designated Officer (KCSIE Part 4: staff who work with children)
    hr = "hr"  # the HR manager (the policy's Appendix 1: concerns about staff)
    other = "other"


class ReferrerRisk(StrEnum):
    none = "none"
    concern = "concern"
    threat_received = "threat_received"


class ParallelReferral(Model):
    """A copy of the concern sent to another safeguarding route at the same time as (or instead of) the police
    referral. Erased by retention with the case."""

    __tablename__ = "case_parallel_referral"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), index=True)
    kind: Mapped[ParallelReferralKind] = enum_column(ParallelReferralKind)
    referred_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User] = relationship()

    @property
    def audit_case_id(self) -> int:
        return self.case_id


class ReferrerSafety(Model):
    """The risk to the person who raised the concern, as the officers last assessed it (one per case, changed in
    place: the audit trail keeps every earlier value). Any risk but `none` shows on the Lead's oversight."""

    __tablename__ = "case_referrer_safety"
    __audited__ = True
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), primary_key=True)
    risk: Mapped[ReferrerRisk] = enum_column(ReferrerRisk, index=True)
    police_informed: Mapped[bool]
    measures: Mapped[str | None] = mapped_column(sa.Text)
    updated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    updated_by: Mapped[User] = relationship()

    @property
    def audit_case_id(self) -> int:
        return self.case_id
