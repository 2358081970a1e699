"""The kernel's tables: the audit trail, uploaded files, the answers kept for idempotent requests, and the
provider's settings."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.columns import UTCDateTime, utcnow


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


class AuditEvent(Model):
    """Append-only (database triggers refuse UPDATE and DELETE) and HMAC-chained: see app/kernel/audit.py."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # assigned by app/kernel/audit.py
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


class ProviderSetting(Model):
    """A setting of the provider's that a user may change (the ones there are, their types, defaults and limits:
    app/kernel/settings.py). A setting never changed has no row and reads as its default."""

    __tablename__ = "provider_setting"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    value: Mapped[str] = mapped_column(sa.String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id"))
