"""The provider's Prevent risk assessment and action plan (issue 14, point 1; the Prevent duty guidance in force
from 31 December 2023). The Prevent Lead keeps it (`can_edit Risk`): risks by area, each with likelihood and impact
from 1 to 5 and the RAG rating that follows (`app.risks.models.rag`, the one rule), the controls in place, and the
actions of the plan with an owner, a due date and a status. Governance and Safeguarding Officers read it
(`can_read Risk`); nobody else. Every change is audited with its old and new values; a sign-off keeps every risk and
its actions as they stood, so that each signed-off version stays readable as it was, whatever changes after.

`evidence()` is the one function the evidence pack (point 7) reads."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound, StaleVersion
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import ActionStatus, User, utcnow
from app.risks.models import Rag, Risk, RiskAction, RiskArea, RiskReview
from app.risks.presenters import risk_json
from app.risks.schemas import AREA_LABELS, RISK, RISK_ACTION, RISK_ACTION_UPDATE, SIGN_OFF

AREA_ORDER = {area: n for n, area in enumerate(RiskArea)}
OWNER_MESSAGE = "Choose someone with an active account."
RAG_ORDER = (Rag.red, Rag.amber, Rag.green)


def may_read(actor) -> bool:
    return can(actor, "can_read", "Risk")


def may_edit(actor) -> bool:
    return can(actor, "can_edit", "Risk")


def _reader(actor) -> None:
    if not may_read(actor):
        raise Forbidden()


def _editor(actor) -> None:
    if not may_edit(actor):
        raise Forbidden()


def _order(risk: Risk) -> tuple[int, int, int]:
    """By area, in the guidance's order; within an area the highest score first."""
    return AREA_ORDER[risk.area], -risk.score, risk.id


# --- reading ----------------------------------------------------------------------------------------------------

def _current(session: Session) -> list[Risk]:
    risks = session.scalars(sa.select(Risk).options(
        selectinload(Risk.actions).selectinload(RiskAction.owner))).all()
    return sorted(risks, key=_order)


def list_risks(session: Session, actor) -> list[Risk]:
    """The assessment as it stands: every risk with its actions, by area."""
    _reader(actor)
    return _current(session)


def get_risk(session: Session, actor, risk_id: int) -> Risk:
    _reader(actor)
    risk = session.get(Risk, risk_id)
    if risk is None:
        raise NotFound("risk")
    return risk


def get_action(session: Session, actor, action_id: int) -> RiskAction:
    _reader(actor)
    action = session.get(RiskAction, action_id)
    if action is None:
        raise NotFound("action")
    return action


def owners(session: Session) -> Sequence[User]:
    """Who may own an action of the plan: anyone with an active account (the IT manager for web filtering, a
    programme director for employers ...)."""
    return session.scalars(sa.select(User).where(User.active.is_(True))
                           .order_by(User.first_name, User.last_name, User.id)).all()


def reviews(session: Session, actor) -> list[tuple[int, RiskReview]]:
    """The signed-off versions, newest first, each with its number (the first sign-off is 1)."""
    _reader(actor)
    rows = session.scalars(sa.select(RiskReview).options(selectinload(RiskReview.signed_off_by))
                           .order_by(RiskReview.signed_off_at, RiskReview.id)).all()
    return [(n, review) for n, review in reversed(list(enumerate(rows, start=1)))]


def get_review(session: Session, actor, review_id: int) -> tuple[int, RiskReview]:
    for number, review in reviews(session, actor):
        if review.id == review_id:
            return number, review
    raise NotFound("signed-off version")


def overdue_actions(session: Session, today: date) -> Sequence[RiskAction]:
    """Open actions of the plan past their due date, the longest overdue first (the reminders and the oversight)."""
    return session.scalars(sa.select(RiskAction).where(RiskAction.status == ActionStatus.open,
                                                       RiskAction.due_date < today)
                           .options(selectinload(RiskAction.owner), selectinload(RiskAction.risk))
                           .order_by(RiskAction.due_date, RiskAction.id)).all()


def overdue_for_oversight(session: Session, actor, today: date, limit: int) -> tuple[Sequence[RiskAction], int]:
    """The first `limit` overdue actions of the plan and how many there are, for the Lead's oversight (none for
    anyone who may not read the assessment)."""
    if not may_read(actor):
        return [], 0
    overdue = overdue_actions(session, today)
    return overdue[:limit], len(overdue)


# --- the Lead's changes -----------------------------------------------------------------------------------------

def _risk_fields(payload: Any) -> tuple[dict[str, Any], int | None]:
    form = RISK.read(payload)
    form.check()
    values = {name: form[name] for name in ("title", "likelihood", "impact", "controls")}
    values["area"] = RiskArea(form["area"])
    return values, form["version"]


def add_risk(actor, payload: Any) -> Risk:
    _editor(actor)
    with unit_of_work("risk") as session:
        values, _ = _risk_fields(payload)
        risk = Risk(**values, created_by_id=actor.id, created_at=utcnow(), updated_at=utcnow())
        session.add(risk)
        session.flush()
        audit.record(session, actor, "add_risk", risk, extra_changes={"rag": (None, risk.rag.value)})
        return risk


def update_risk(actor, risk_id: int, payload: Any) -> Risk:
    """Changes a risk (area, title, likelihood, impact, controls); with `version`, refuses (409) if someone changed
    it since it was read. The audit event keeps the old and new values, and the RAG rating's when it moves."""
    _editor(actor)
    with unit_of_work("risk") as session:
        risk = session.get(Risk, risk_id)
        if risk is None:
            raise NotFound("risk")
        values, version = _risk_fields(payload)
        if version is not None and version != risk.version:
            raise StaleVersion(what="risk")
        before = risk.rag
        for name, value in values.items():
            setattr(risk, name, value)
        if not session.is_modified(risk):
            return risk  # nothing changed: nothing to audit
        risk.updated_at = utcnow()
        extra = {"rag": (before.value, risk.rag.value)} if risk.rag != before else None
        audit.record(session, actor, "update_risk", risk, extra_changes=extra)
        return risk


def add_action(actor, risk_id: int, payload: Any) -> RiskAction:
    _editor(actor)
    with unit_of_work("risk") as session:
        risk = session.get(Risk, risk_id)
        if risk is None:
            raise NotFound("risk")
        form = RISK_ACTION.read(payload)
        owner = session.get(User, form["owner_id"]) if form["owner_id"] is not None else None
        if form["owner_id"] is not None and (owner is None or not owner.active):
            form.error("owner_id", OWNER_MESSAGE)
        form.check()
        assert owner is not None  # form.check() refused a missing or unsuitable owner
        action = RiskAction(risk_id=risk.id, title=form["title"], owner_id=owner.id, due_date=form["due_date"],
                            status=ActionStatus.open, created_by_id=actor.id, created_at=utcnow())
        session.add(action)
        session.flush()
        audit.record(session, actor, "add_risk_action", action)
        return action


def update_action(actor, action_id: int, payload: Any) -> RiskAction:
    """Completes (with a completion note) or cancels an open action of the plan."""
    _editor(actor)
    with unit_of_work("action") as session:
        action = session.get(RiskAction, action_id)
        if action is None:
            raise NotFound("action")
        form = RISK_ACTION_UPDATE.read(payload)
        if form["status"] == ActionStatus.done.value:
            form.require("completion_note")
        version = form["version"]
        form.check()
        if version is not None and version != action.version:
            raise StaleVersion(what="action")
        if action.status != ActionStatus.open:
            raise Conflict(f"The action is already {action.status.value}.", action.status.value)
        action.status = ActionStatus(form["status"])
        action.completion_note = form["completion_note"]
        action.completed_at = utcnow()
        audit.record(session, actor, f"risk_action_{action.status.value}", action, reason=form["completion_note"])
        return action


def sign_off(actor, payload: Any) -> RiskReview:
    """The Prevent Lead signs the assessment off as it stands now: the note, the time, and every risk with its
    actions as they stand (kept as written, whatever changes later)."""
    _editor(actor)
    with unit_of_work("risk assessment") as session:
        form = SIGN_OFF.check(payload)
        risks = _current(session)
        if not risks:
            raise Conflict("There are no risks to sign off yet: add the risks of the assessment first.")
        now = utcnow()
        review = RiskReview(signed_off_at=now, signed_off_by_id=actor.id, note=form["note"],
                            snapshot=[risk_json(risk, now.date()) for risk in risks])
        session.add(review)
        session.flush()
        audit.record(session, actor, "sign_off_risk_assessment", review, reason=form["note"],
                     covers=risks)
        return review


# --- for the evidence pack (point 7) ------------------------------------------------------------------------------

def evidence(session: Session, actor, start: date, end: date) -> dict[str, Any]:
    """The risk assessment and the action plan's status for an evidence pack of the period `start` to `end`
    (both days included). Figures and short rows only: no owner's name, no person of any case.

    - `risks`: the current risks, by area ({"area", "area_label", "title", "likelihood", "impact", "score", "rag",
      "controls"});
    - `by_rag`: how many risks are red, amber and green now;
    - `actions`: the plan's status now ({"open", "overdue", "done", "cancelled"}; overdue ones are counted in open
      too) and in the period ({"due_in_period", "done_in_period"});
    - `last_sign_off`: the latest sign-off ({"number", "signed_off_on", "note", "risks"}: how many risks it kept), or
      None; `sign_offs_in_period`: how many sign-offs fell in the period.

    Forbidden for anyone who may not read the assessment (the Lead, officers and Governance may); InvalidData when
    the period ends before it starts."""
    _reader(actor)
    if end < start:
        raise InvalidData({"to": ["The end of the period must be on or after its start."]})
    today = date.today()
    risks = _current(session)
    actions = [action for risk in risks for action in risk.actions]
    signed = reviews(session, actor)
    in_period = [review for _, review in signed if start <= review.signed_off_at.date() <= end]
    last = signed[0] if signed else None
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "as_of": today.isoformat(),
        "risks": [{"area": risk.area.value, "area_label": AREA_LABELS[risk.area], "title": risk.title,
                   "likelihood": risk.likelihood, "impact": risk.impact, "score": risk.score,
                   "rag": risk.rag.value, "controls": risk.controls} for risk in risks],
        "by_rag": {rag.value: sum(1 for risk in risks if risk.rag == rag) for rag in RAG_ORDER},
        "actions": {
            "open": sum(1 for a in actions if a.status == ActionStatus.open),
            "overdue": sum(1 for a in actions if a.overdue(today)),
            "done": sum(1 for a in actions if a.status == ActionStatus.done),
            "cancelled": sum(1 for a in actions if a.status == ActionStatus.cancelled),
            "due_in_period": sum(1 for a in actions if start <= a.due_date <= end),
            "done_in_period": sum(1 for a in actions if a.status == ActionStatus.done and a.completed_at
                                  and start <= a.completed_at.date() <= end),
        },
        "last_sign_off": None if last is None else {
            "number": last[0], "signed_off_on": last[1].signed_off_at.date().isoformat(), "note": last[1].note,
            "risks": len(last[1].snapshot)},
        "sign_offs_in_period": len(in_period),
    }
