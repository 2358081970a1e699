"""The unit of work: one transaction per use case, rolled back unless it completes.

Every commit of our code goes through `unit_of_work()`, except the few in COMMIT_EXCEPTIONS, each with its reason.
tests/test_house_rules.py reads every module under app/ and fails on any other `.commit(` call. (Flask-AppBuilder's
own calls, such as `add_user` or `add_role`, commit inside the library: they are not ours to list.)

A use case (each area's `use_cases.py` and its siblings) opens a unit of work, checks access, changes, audits and
commits once. Reading a case logs it the same way: pages and the API open a case through the cases use cases
`read_case`, `read_chronology` and `read_audit_trail`, which write the access log.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.kernel.errors import StaleVersion

# The functions (module path under the repository, qualified name) that call `.commit()` themselves, and why.
COMMIT_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("app/kernel/uow.py", "unit_of_work"): "The unit of work itself.",
    ("app/notifications/outbox.py", "claim"): (
        "The outbox worker's claim protocol: the claim of a batch commits at once, before any email is sent, so "
        "that other workers skip the batch while it is sent."),
    ("app/notifications/outbox.py", "_renew"): (
        "The claim protocol: each email's result commits with the renewal of the lease on the rest of the batch, "
        "one commit per email, so that a worker that dies mid-batch loses at most one result."),
    ("app/notifications/outbox.py", "send_claimed"): (
        "The claim protocol: the last email's result commits when the batch ends."),
    ("app/notifications/outbox.py", "deliver_due"): (
        "The claim protocol: with the mail server unreachable, the whole batch is put back to retry in one commit."),
}


@contextmanager
def unit_of_work(record: str = "case") -> Iterator[Session]:
    """Yields the session; commits when the block completes (audit events are sealed at commit), else rolls back.

    A concurrent writer that got to the same versioned row first turns into StaleVersion (HTTP 409), which names
    the `record` the use case changes.
    """
    session = db.session
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleVersion(what=record) from None
    except BaseException:
        session.rollback()
        raise
