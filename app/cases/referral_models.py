"""The national Prevent referral form's details of a case, one row per case (one-to-one): what the form asks beyond
the concern itself, most of it optional. The concern's words, date of birth, indicators and type stay on the case and
its subject; app/cases/referral_form.py puts them together. No commits here: use cases own them."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.columns import UTCDateTime, utcnow


class ReferralDetails(Model):
    """What the national referral form asks about the person and the concern that the concern form does not.
    Audited (old and new values in each change's event) and erased by retention with the case."""

    __tablename__ = "referral_details"
    __audited__ = True
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("prevent_case.id"), primary_key=True)
    # The person
    address: Mapped[str | None] = mapped_column(sa.Text)  # lines, one a line
    postcode: Mapped[str | None] = mapped_column(sa.String(10))
    local_authority: Mapped[str | None] = mapped_column(sa.String(200))  # where they live
    gender: Mapped[str | None] = mapped_column(sa.String(60))
    nationality: Mapped[str | None] = mapped_column(sa.String(100))
    # Education or employment, beyond the programme and employer kept on the subject
    education_employment: Mapped[str | None] = mapped_column(sa.Text)
    # Needs and vulnerabilities: special educational needs, disabilities or complex needs (yes, no, not_known)
    special_needs: Mapped[str | None] = mapped_column(sa.String(16))
    needs_vulnerabilities: Mapped[str | None] = mapped_column(sa.Text)
    online_activity: Mapped[str | None] = mapped_column(sa.Text)
    group_contacts: Mapped[str | None] = mapped_column(sa.Text)  # contact with groups or individuals
    threats_intentions: Mapped[str | None] = mapped_column(sa.Text)
    family_context: Mapped[str | None] = mapped_column(sa.Text)
    parents_carers_told: Mapped[str | None] = mapped_column(sa.String(16))  # yes, no, not_applicable
    other_agencies: Mapped[str | None] = mapped_column(sa.Text)
    referrer_actions: Mapped[str | None] = mapped_column(sa.Text)  # what the referrer has done so far
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_case_id(self) -> int:
        return self.case_id
