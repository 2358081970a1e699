"""The email outbox: an email is a row written in the same transaction as the change that causes it, and a worker
delivers it after commit.

Nothing is lost: a rolled-back change queues nothing; a refused or failed send is retried with backoff; after
OUTBOX_MAX_ATTEMPTS it is parked as failed for the Admin to see and retry.

Nothing is sent twice by design. A worker claims a batch of rows under a token of its own (SKIP LOCKED on PostgreSQL,
a conditional update everywhere) for OUTBOX_LEASE_SECONDS; a claim whose lease runs out is taken up again by any
worker, since its worker may have died. So while it sends, a worker renews the lease of the rows it still holds
before each message, and skips a row it no longer holds; and it records each result (sent, or to retry) only on a row
that still carries its token, so that a worker that lost its claim changes nothing and counts nothing.

One case is left, and it is at-least-once, not exactly-once: the SMTP server accepted a message and the worker died
(or stalled for longer than the lease) before it could mark the row sent. The row is then claimed and sent again,
with the same Message-ID, which it got when queued: mail systems recognise it as a duplicate. Keep the lease well
above the time one message can take (MAIL_TIMEOUT_SECONDS for each step of the SMTP exchange) to keep it rare.

The worker's claims and results commit here, one short transaction at a time, not through a unit of work: these are the
commits listed in app/kernel/uow.py's COMMIT_EXCEPTIONS. Queuing an email (`queue`) and the Admin's `retry` commit
with the use case that causes them.
"""
from __future__ import annotations

import contextlib
import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid

import sqlalchemy as sa
from flask import current_app
from flask_mail import Message
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db, mail
from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import EmailStatus, NotificationPreference, OutboxEmail, User, utcnow

log = logging.getLogger(__name__)


def wants_digest(session: Session, user: User) -> bool:
    return bool(session.scalar(sa.select(NotificationPreference.daily_digest)
                               .where(NotificationPreference.user_id == user.id)))


def queue(session: Session, *, kind: str, recipient: User | None = None, to_address: str | None = None,
          subject: str, body: str, case_id: int | None = None, urgent: bool = False,
          dedupe_key: str | None = None, digestible: bool = True) -> OutboxEmail | None:
    """Adds an email to the caller's transaction, for a user (`recipient`) or for someone outside who has no account
    (`to_address`, such as an employer's Prevent contact). With `dedupe_key`, an email already queued under that key
    (by an earlier run, or a concurrent one) means this one is not queued: None is returned."""
    if (recipient is None) == (to_address is None):
        raise ValueError("An email goes to a user or to an address: give exactly one.")
    held = digestible and not urgent and recipient is not None and wants_digest(session, recipient)
    email = OutboxEmail(
        message_id=make_msgid(domain=current_app.config["MAIL_MESSAGE_ID_DOMAIN"]), dedupe_key=dedupe_key,
        kind=kind, recipient_id=recipient.id if recipient else None,
        to_address=recipient.email if recipient else to_address, subject=subject, body=body, urgent=urgent,
        case_id=case_id, status=EmailStatus.held if held else EmailStatus.queued, created_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    if dedupe_key is None:
        session.add(email)
        return email
    try:
        with session.begin_nested():
            session.add(email)
    except IntegrityError:
        return None
    return email


# --- delivery -------------------------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} parked as failed"


def _claimable(now) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(OutboxEmail.status == EmailStatus.queued, OutboxEmail.next_attempt_at <= now),
        # A claim whose worker died (killed mid-send, or before it could mark the result) is taken up again.
        sa.and_(OutboxEmail.status == EmailStatus.sending, OutboxEmail.lease_until < now),
    )


@dataclass
class Claim:
    """The due emails a worker took, and the token that marks them as its own while it holds them."""
    token: str
    emails: list[OutboxEmail]


def _lease_until():
    return utcnow() + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def claim(limit: int) -> Claim | None:
    """Takes up to `limit` due emails for this worker alone, in a short transaction of its own; None when none is due.

    PostgreSQL skips rows another worker has locked; elsewhere the conditional update makes a second claim of the
    same row change nothing, and a worker that lost every row of its batch to another simply looks again.
    """
    session = db.session
    while True:
        now = utcnow()
        ids = session.scalars(
            sa.select(OutboxEmail.id).where(_claimable(now)).order_by(OutboxEmail.urgent.desc(), OutboxEmail.id)
            .limit(limit).with_for_update(skip_locked=True)
        ).all()
        if not ids:
            session.rollback()
            return None
        token = uuid.uuid4().hex
        session.execute(
            sa.update(OutboxEmail).where(OutboxEmail.id.in_(ids), _claimable(now))
            .values(status=EmailStatus.sending, lease_until=_lease_until(), claim_token=token,
                    attempts=OutboxEmail.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        claimed = session.scalars(sa.select(OutboxEmail)
                                  .where(OutboxEmail.id.in_(ids), OutboxEmail.claim_token == token)
                                  .order_by(OutboxEmail.urgent.desc(), OutboxEmail.id)).all()
        if claimed:
            # Read once: the worker's commits while it sends must not reload each row (it renews by id and token).
            for email in claimed:
                session.expunge(email)
            return Claim(token, claimed)


def _renew(claim: Claim, emails: list[OutboxEmail]) -> set[int]:
    """Extends the lease of those of `emails` that the worker still holds, and commits (with it, the result of the
    send before); returns their ids. A row missing was taken up by another worker after the lease ran out, and is
    theirs now."""
    held = db.session.scalars(
        sa.update(OutboxEmail).where(OutboxEmail.id.in_([email.id for email in emails]),
                                     OutboxEmail.claim_token == claim.token)
        .values(lease_until=_lease_until()).returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return set(held)


def as_message(email: OutboxEmail) -> Message:
    message = Message(subject=email.subject, recipients=[email.to_address], body=email.body,
                      sender=current_app.config["MAIL_DEFAULT_SENDER"],
                      extra_headers={"X-Priority": "1", "Importance": "high"} if email.urgent else None)
    message.msgId = email.message_id
    return message


def backoff(attempts: int) -> timedelta:
    base = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), current_app.config["OUTBOX_BACKOFF_MAX_SECONDS"]))


def _record(claim: Claim, email: OutboxEmail, **values) -> bool:
    """Records a send's result, only if the row is still this worker's: whether it was. The caller commits."""
    result = db.session.execute(
        sa.update(OutboxEmail).where(OutboxEmail.id == email.id, OutboxEmail.claim_token == claim.token)
        .values(lease_until=None, claim_token=None, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        log.warning("Email %s was claimed by another worker while this one sent it: it may go twice, with the "
                    "same Message-ID %s.", email.id, email.message_id)
    return result.rowcount == 1


def _mark_sent(claim: Claim, email: OutboxEmail, report: DeliveryReport) -> None:
    if _record(claim, email, status=EmailStatus.sent, sent_at=utcnow(), last_error=None):
        report.sent += 1


def _mark_failed(claim: Claim, email: OutboxEmail, error: str, report: DeliveryReport) -> None:
    error = error[:500]
    if email.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        if _record(claim, email, status=EmailStatus.failed, last_error=error):
            report.failed += 1
            log.error("Email %s parked as failed after %s attempts: %s", email.id, email.attempts, error)
    elif _record(claim, email, status=EmailStatus.queued, last_error=error,
                 next_attempt_at=utcnow() + backoff(email.attempts)):
        report.retrying += 1


def _error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def deliver_due(batch_size: int = 50) -> DeliveryReport:
    """One pass: sends every email due now, batch by batch, and records each result as it goes."""
    report = DeliveryReport()
    while True:
        batch = claim(batch_size)
        if batch is None:
            return report
        try:
            connection = mail.connect().__enter__()
        except (smtplib.SMTPException, OSError) as exc:
            for email in batch.emails:
                _mark_failed(batch, email, _error_text(exc), report)
            db.session.commit()
            return report  # the server is down: the rest waits for the next pass
        try:
            send_claimed(batch, connection, report)
        finally:
            # The emails are sent and marked; a failed goodbye to the server changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.__exit__(None, None, None)


def send_claimed(batch: Claim, connection, report: DeliveryReport) -> None:
    """Sends the batch's emails one by one, each only while the worker still holds it. Each result is committed with
    the renewal of the lease on the rest, in one transaction."""
    for position, email in enumerate(batch.emails):
        if email.id not in _renew(batch, batch.emails[position:]):
            continue  # its lease ran out and another worker took it up: theirs to send
        try:
            connection.send(as_message(email))
        except (smtplib.SMTPException, OSError) as exc:
            _mark_failed(batch, email, _error_text(exc), report)
        else:
            _mark_sent(batch, email, report)
    db.session.commit()


def retry(actor, email_id: int) -> OutboxEmail:
    """The Admin sends a parked email again (it keeps its Message-ID)."""
    if not can(actor, "can_retry", "Outbox"):
        raise Forbidden()
    with unit_of_work() as session:
        email = session.get(OutboxEmail, email_id)
        if email is None:
            raise NotFound("email")
        if email.status != EmailStatus.failed:
            raise Conflict("Only an email that failed can be retried.")
        email.status = EmailStatus.queued
        email.attempts = 0
        email.next_attempt_at = utcnow()
        audit.record(session, actor, "retry_email", email)
        return email


def sent_to(session: Session, user, limit: int = 20) -> list[OutboxEmail]:
    """The latest emails to this person, for their own page."""
    return session.scalars(sa.select(OutboxEmail).where(OutboxEmail.recipient_id == user.id)
                           .order_by(OutboxEmail.id.desc()).limit(limit)).all()


def failed_and_recent(session: Session, actor, limit: int = 100) -> tuple[list[OutboxEmail], list[OutboxEmail]]:
    """For the Admin's outbox page: every parked email, and the latest others."""
    if not can(actor, "can_read", "Outbox"):
        raise Forbidden()
    failed = session.scalars(sa.select(OutboxEmail).where(OutboxEmail.status == EmailStatus.failed)
                             .order_by(OutboxEmail.id.desc())).all()
    recent = session.scalars(sa.select(OutboxEmail).where(OutboxEmail.status != EmailStatus.failed)
                             .order_by(OutboxEmail.id.desc()).limit(limit)).all()
    return failed, recent
