"""The reporter adds to their own concern later: more information in their own words (a new kind of chronology entry,
"reporter_information", told to the officers by email as a new concern is), and files (app/cases/attachments.py).
Only the person who raised the concern may add information to it; to anyone else it is no concern of theirs (404)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.cases.attachments import case_for_addition
from app.cases.schemas import INFORMATION
from app.kernel import audit
from app.kernel.errors import Forbidden, NotFound
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import CaseEntry
from app.notifications import notify

KIND = "reporter_information"


def add_information(actor, case_id: int, payload: Any) -> CaseEntry:
    """The reporter adds information to their own open concern: it reaches the chronology, and the officers are
    told at once."""
    if not can(actor, "can_read_own"):
        raise Forbidden()
    with unit_of_work() as session:
        case = case_for_addition(session, actor, case_id)
        if case.reporter_id != actor.id:
            raise NotFound("case")
        text = INFORMATION.check(payload)["text"]
        entry = CaseEntry(case_id=case.id, actor_id=actor.id, kind=KIND,
                          summary="The person who raised the concern added information", reason=text)
        session.add(entry)
        session.flush()
        audit.record(session, actor, "add_information", entry, case_id=case.id)
        notify.information_added(session, case)
        return entry


def own_additions(session: Session, actor, case_id: int) -> Sequence[CaseEntry]:
    """What the reporter added to their concern, oldest first: shown back to them on their view of it."""
    return session.scalars(sa.select(CaseEntry).where(CaseEntry.case_id == case_id, CaseEntry.kind == KIND,
                                                      CaseEntry.actor_id == actor.id)
                           .order_by(CaseEntry.at, CaseEntry.id)).all()
