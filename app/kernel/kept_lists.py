"""The lists the Prevent Lead keeps (the directory's contacts, the subcontractors): a record found for a change by
someone who may keep the list, and retired or put back in use, audited. Each area's use cases say which list, its
permission and its words; the pages are app/kernel/pages.py `KeptList`."""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.security import can

Record = TypeVar("Record")


def for_change(session: Session, actor, model: type[Record], pk: int, permission_view: str, what: str) -> Record:
    """The record, for a change by someone with `can_edit` on the list: 403 for anyone else, 404 if there is none."""
    if not can(actor, "can_edit", permission_view):
        raise Forbidden()
    record = session.get(model, pk)
    if record is None:
        raise NotFound(what)
    return record


def set_in_use(session: Session, actor, record: Any, in_use: bool, what: str, action: str) -> None:
    """Retires the record (kept for the record, no longer offered) or puts it back; audited as retire_<action> or
    restore_<action>. 409 when it is so already."""
    if record.active == in_use:
        raise Conflict(f"This {what} is in use already." if in_use else f"This {what} is retired already.")
    record.active = in_use
    audit.record(session, actor, f"{'restore' if in_use else 'retire'}_{action}", record)
