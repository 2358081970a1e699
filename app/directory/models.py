"""The directory of Prevent contacts by area (police Prevent teams, Channel leads, MASH front doors, the DfE's
regional Prevent coordinators), kept by the Prevent Lead. Contacts are retired, never deleted."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.columns import UTCDateTime, enum_column, utcnow


class ContactKind(StrEnum):
    police_prevent = "police_prevent"  # the police Prevent team
    channel_lead = "channel_lead"  # the local authority's Channel lead
    mash = "mash"  # the MASH, children's safeguarding front door
    dfe_coordinator = "dfe_coordinator"  # the Department for Education's regional Prevent coordinator


class DirectoryContact(Model):
    """One contact and the area it covers: local authorities (one per line, as named; a DfE coordinator's region
    covers many) and, where known, postcode districts (outward codes, as "M1 M2 SK4")."""

    __tablename__ = "directory_contact"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ContactKind] = enum_column(ContactKind)
    name: Mapped[str] = mapped_column(sa.String(200))  # a person, a team or a service
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    local_authorities: Mapped[str] = mapped_column(sa.Text)  # one per line
    postcode_districts: Mapped[str | None] = mapped_column(sa.Text)  # outward codes, upper case, one space apart
    region: Mapped[str | None] = mapped_column(sa.String(100))  # a DfE coordinator's region, such as "North West"
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def authority_list(self) -> list[str]:
        return [line for line in (self.local_authorities or "").splitlines() if line]

    @property
    def district_list(self) -> list[str]:
        return (self.postcode_districts or "").split()

    def __repr__(self) -> str:
        return self.name
