"""The unit of work: one transaction per use case, rolled back unless it completes."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.errors import StaleVersion
from app.extensions import db


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
