"""The outbox never loses an email and never sends one twice: failures part-way, a server that refuses or is down,
a worker killed mid-send, and two workers sharing one queue. A real SMTP server, started by the tests, receives."""
from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import outbox
from app.extensions import db
from app.models import EmailStatus, OutboxEmail, utcnow
from app.services import cases
from app.services.uow import unit_of_work
from tests.conftest import concern_payload, csrf_token, make_case, user


def queue_emails(count: int, kind: str = "test") -> list[str]:
    """Queues `count` emails in one transaction; returns their Message-IDs."""
    with unit_of_work() as session:
        emails = [outbox.queue(session, kind=kind, recipient=user("officer"), subject=f"Test {kind} {n}", body="Hello")
                  for n in range(count)]
    return [email.message_id for email in emails]


def received_ids(messages) -> Counter:
    return Counter(m["Message-ID"] for m in messages)


def emails_with(message_ids) -> list[OutboxEmail]:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.message_id.in_(message_ids))).all()


@contextmanager
def failing_commit(when):
    """Makes the next commit for which `when(session)` holds fail, as a crash or a lost connection would."""
    def fail(session):
        if when(session):
            raise RuntimeError("injected failure")
    event.listen(Session, "before_commit", fail, insert=True)  # before the audit seal, which flushes
    try:
        yield
    finally:
        event.remove(Session, "before_commit", fail)


def test_a_transition_that_fails_part_way_queues_nothing(inbox):
    case_id = make_case("staff2")
    outbox.deliver_due()
    inbox.take()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail))
    with failing_commit(lambda session: True), pytest.raises(RuntimeError):
        cases.transition(user("officer"), case_id, {"event": "acknowledge", "reason": "Seen"})
    with failing_commit(lambda session: True), pytest.raises(RuntimeError):
        cases.raise_concern(user("staff"), concern_payload())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == before
    outbox.deliver_due()
    assert inbox.take() == []


def test_every_email_arrives_once_after_the_server_refused_for_a_while(inbox):
    message_ids = queue_emails(5)
    inbox.refuse_next = 3  # the first three deliveries are refused with 451: retried, not lost
    report = outbox.deliver_due()  # no backoff under test: the refused ones are tried again in the same pass
    assert (report.sent, report.retrying, report.failed) == (5, 3, 0)
    assert received_ids(inbox.take()) == Counter({message_id: 1 for message_id in message_ids})
    assert {email.status for email in emails_with(message_ids)} == {EmailStatus.sent}


def test_a_server_that_is_down_delays_delivery_and_loses_nothing(inbox, smtp_server):
    message_ids = queue_emails(3)
    smtp_server.stop()
    try:
        report = outbox.deliver_due()
    finally:
        smtp_server.start()
    assert report.retrying == 3 and report.sent == 0
    assert all("Connection refused" in email.last_error for email in emails_with(message_ids))
    outbox.deliver_due()
    assert received_ids(inbox.take()) == Counter({message_id: 1 for message_id in message_ids})


def test_backoff_grows_with_each_failure(app, ctx):
    app.config["OUTBOX_BACKOFF_SECONDS"] = 30
    try:
        assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]
    finally:
        app.config["OUTBOX_BACKOFF_SECONDS"] = 0


def test_after_too_many_failures_an_email_is_parked_for_the_admin_who_can_retry_it(inbox, app, web):
    [message_id] = queue_emails(1, kind="parked")
    inbox.refuse_next = app.config["OUTBOX_MAX_ATTEMPTS"]
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
        outbox.deliver_due()
    [email] = emails_with([message_id])
    assert email.status == EmailStatus.failed and "451" in email.last_error
    assert outbox.deliver_due().sent == 0  # parked: no more attempts on its own

    admin = web("admin")
    page = admin.get("/outbox/").get_data(as_text=True)
    assert "Test parked 0" in page and "Mailbox busy" in page
    assert web("lead").get("/outbox/").status_code == 403
    assert admin.post(f"/outbox/{email.id}/retry", data={"csrf_token": csrf_token(page)}).status_code == 302
    outbox.deliver_due()
    assert received_ids(inbox.take()) == Counter({message_id: 1})


def test_a_worker_killed_after_sending_leads_to_a_redelivery_with_the_same_message_id(inbox):
    [message_id] = queue_emails(1, kind="killed")
    # The worker dies after the server took the email and before it could record that: its commit never happens.
    marking_sent = lambda session: any(isinstance(o, OutboxEmail) and o.status == EmailStatus.sent  # noqa: E731
                                       for o in session.dirty)
    with failing_commit(marking_sent), pytest.raises(RuntimeError):
        outbox.deliver_due()
    db.session.rollback()
    assert received_ids(inbox.take()) == Counter({message_id: 1})
    [email] = emails_with([message_id])
    assert email.status == EmailStatus.sending
    assert outbox.deliver_due().sent == 0  # its claim is still held: no second worker takes it yet

    with unit_of_work() as session:  # the claim's lease runs out
        session.execute(sa.update(OutboxEmail).where(OutboxEmail.message_id == message_id)
                        .values(lease_until=utcnow() - timedelta(seconds=1)))
    assert outbox.deliver_due().sent == 1
    assert received_ids(inbox.take()) == Counter({message_id: 1})
    [email] = emails_with([message_id])
    assert email.status == EmailStatus.sent and email.attempts == 2


def test_two_workers_deliver_1000_emails_without_sending_any_twice(app, inbox):
    message_ids = queue_emails(1000, kind="bulk")
    reports = []

    def worker():
        with app.app_context():
            reports.append(outbox.deliver_due(batch_size=25))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    received = received_ids(inbox.take())
    assert received == Counter({message_id: 1 for message_id in message_ids})
    assert sum(report.sent for report in reports) == 1000
    assert all(report.sent > 0 for report in reports), "both workers took a share"


def test_the_cli_delivers_one_pass_and_reminders_queue_once_a_day(app, inbox):
    [message_id] = queue_emails(1, kind="cli")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0 and "sent" in result.output
    assert received_ids(inbox.take()) == Counter({message_id: 1})
    first = runner.invoke(args=["reminders", "run", "--today", "2031-01-15"])
    second = runner.invoke(args=["reminders", "run", "--today", "2031-01-15"])
    assert first.exit_code == second.exit_code == 0
    assert second.output.strip() == "Nothing new fell due."
