"""Subcontracted provision (the provider's policy, section 3): the Prevent Lead keeps the subcontractors (added,
changed, retired and put back, each audited); officers, the Lead and Governance read them. Their staff are on the
staff list (training compliance per subcontractor: app/training/use_cases.py) and a concern about one of their
learners names them (Subject.subcontractor_id, chosen on the concern form).

`all_subcontractors` is the plain list for other areas (the risk assessment's subcontracted provision area)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.kernel import audit, kept_lists
from app.kernel.errors import Conflict, Forbidden, NotFound, StaleVersion
from app.kernel.schemas import Loaded
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import Subcontractor
from app.subcontractors.schemas import SUBCONTRACTOR


def all_subcontractors(session: Session, *, include_retired: bool = False) -> Sequence[Subcontractor]:
    """The subcontractors, by name: those in use, or every one with `include_retired`. No access check: for other
    areas' use cases, which check their own."""
    query = sa.select(Subcontractor).order_by(Subcontractor.name, Subcontractor.id)
    if not include_retired:
        query = query.where(Subcontractor.active.is_(True))
    return session.scalars(query).all()


def listed(session: Session, actor, *, include_retired: bool = False) -> Sequence[Subcontractor]:
    """`all_subcontractors`, for someone who may read them (officers, the Prevent Lead, Governance)."""
    if not can(actor, "can_read", "Subcontractor"):
        raise Forbidden()
    return all_subcontractors(session, include_retired=include_retired)


def get_subcontractor(session: Session, actor, subcontractor_id: int) -> Subcontractor:
    if not can(actor, "can_read", "Subcontractor"):
        raise Forbidden()
    subcontractor = session.get(Subcontractor, subcontractor_id)
    if subcontractor is None:
        raise NotFound("subcontractor")
    return subcontractor


def _fields(session: Session, form: Loaded, subcontractor_id: int | None = None) -> dict[str, Any]:
    values = {name: form[name] for name in ("name", "contact_name", "contact_email", "contact_phone")}
    lines = [" ".join(line.split()) for line in (form["programmes"] or "").splitlines()]
    values["programmes"] = "\n".join(dict.fromkeys(line for line in lines if line)) or None
    if values["name"]:
        values["name"] = " ".join(values["name"].split())
        same = sa.select(Subcontractor.id).where(sa.func.lower(Subcontractor.name) == values["name"].lower())
        if subcontractor_id is not None:
            same = same.where(Subcontractor.id != subcontractor_id)
        if session.scalar(same) is not None:
            form.error("name", "A subcontractor with this name is listed already.")
    return values


def _flush(session: Session) -> None:
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("Someone added a subcontractor with this name at the same moment: reload and try again.") \
            from None


def add_subcontractor(actor, payload: Any) -> Subcontractor:
    if not can(actor, "can_edit", "Subcontractor"):
        raise Forbidden()
    with unit_of_work("subcontractor") as session:
        form = SUBCONTRACTOR.read(payload)
        values = _fields(session, form)
        form.check()
        subcontractor = Subcontractor(**values, active=True)
        session.add(subcontractor)
        _flush(session)
        audit.record(session, actor, "add_subcontractor", subcontractor)
        return subcontractor


def _for_change(session: Session, actor, subcontractor_id: int) -> Subcontractor:
    return kept_lists.for_change(session, actor, Subcontractor, subcontractor_id, "Subcontractor", "subcontractor")


def update_subcontractor(actor, subcontractor_id: int, payload: Any) -> Subcontractor:
    """Changes its details; with `version`, refuses (409) if someone changed it since."""
    with unit_of_work("subcontractor") as session:
        subcontractor = _for_change(session, actor, subcontractor_id)
        form = SUBCONTRACTOR.read(payload)
        values = _fields(session, form, subcontractor.id)
        version = form["version"]
        form.check()
        if version is not None and version != subcontractor.version:
            raise StaleVersion(what="subcontractor")
        for name, value in values.items():
            setattr(subcontractor, name, value)
        audit.record(session, actor, "update_subcontractor", subcontractor)
        _flush(session)
        return subcontractor


def set_in_use(actor, subcontractor_id: int, in_use: bool) -> Subcontractor:
    """Retires a subcontractor (no longer offered on forms, kept for the record) or puts a retired one back."""
    with unit_of_work("subcontractor") as session:
        subcontractor = _for_change(session, actor, subcontractor_id)
        kept_lists.set_in_use(session, actor, subcontractor, in_use, "subcontractor", "subcontractor")
        return subcontractor
