"""Per-user security state beside FAB's ab_user: sessions and lockout, refresh tokens, the second factor,
recovery codes, and role grants awaiting a second person."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum  # str() and f-strings give the value

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kernel.columns import UTCDateTime, enum_column, utcnow


class AccountState(Model):
    """Per user, beside FAB's ab_user (left as FAB made it): the session version and the sign-in lockout.

    Every session cookie and API token carries the version it was issued under; raising it (app/identity/sessions.py)
    ends all of the user's sessions and tokens at once. `locked_until` is set by repeated failed sign-ins
    (app/identity/sign_in.py). Both live in the database so that they hold across every worker. A user without a row is
    at version 0, not locked.
    """

    __tablename__ = "account_state"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    session_version: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefreshToken(Model):
    """An API refresh token issued at sign-in, by its JWT id: refused once not used for SESSION_IDLE_MINUTES
    (app/identity/sessions.py), as a web session is."""

    __tablename__ = "api_refresh_token"
    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SecondFactor(Model):
    """A user's TOTP second factor, kept apart from FAB's ab_user. `enrolled_at` is empty until the user confirms the
    secret with a code; `last_step` is the last time-step accepted, so that each code is accepted once only."""

    __tablename__ = "mfa_totp"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    secret_sealed: Mapped[str] = mapped_column(sa.String(255))  # encrypted (app/identity/two_step.py), never plain
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
    second person (another Admin, or the Prevent Lead) approves it (app/identity/accounts.py)."""

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
