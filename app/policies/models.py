"""The policy register: each policy, its versions, and who confirmed reading which version."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, utcnow


class Policy(Model):
    """A policy of the provider's (Prevent, safeguarding, IT and online safety, external speakers ...) and whom it
    applies to: everyone, or the roles and teams named (one a line). Its current version is its latest."""

    __tablename__ = "policy"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    applies_to_all: Mapped[bool] = mapped_column(default=True)
    roles: Mapped[str | None] = mapped_column(sa.Text)  # role names, one a line (app/kernel/security.py's)
    teams: Mapped[str | None] = mapped_column(sa.Text)  # staff list teams, one a line
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    versions: Mapped[list[PolicyVersion]] = relationship(back_populates="policy", order_by="PolicyVersion.id.desc()")

    @property
    def role_list(self) -> list[str]:
        return [line for line in (self.roles or "").splitlines() if line]

    @property
    def team_list(self) -> list[str]:
        return [line for line in (self.teams or "").splitlines() if line]

    @property
    def current(self) -> PolicyVersion | None:
        return self.versions[0] if self.versions else None

    def __repr__(self) -> str:
        return self.name


class PolicyVersion(Model):
    """One version of a policy: its label ("4.1"), owner (a post, such as "Prevent Lead"), when it took effect and
    when it is next reviewed, what changed, and where to read it. A new version asks everyone again."""

    __tablename__ = "policy_version"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("policy_id", "label", name="uq_policy_version_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("policy.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(20))
    owner: Mapped[str] = mapped_column(sa.String(200))
    published_on: Mapped[date]
    next_review_on: Mapped[date]
    summary: Mapped[str | None] = mapped_column(sa.Text)  # what changed
    document_url: Mapped[str | None] = mapped_column(sa.String(500))
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy: Mapped[Policy] = relationship(back_populates="versions")


class PolicyConfirmation(Model):
    """"I have read version X": one per person per version, never changed."""

    __tablename__ = "policy_confirmation"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("policy_version_id", "user_id", name="uq_policy_confirmation"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_version_id: Mapped[int] = mapped_column(sa.ForeignKey("policy_version.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy_version: Mapped[PolicyVersion] = relationship()
    user: Mapped[User] = relationship()
