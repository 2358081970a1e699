"""Actions on a case: anything someone must do, with an owner, a due date, a status and a completion note."""
from __future__ import annotations

from typing import Any

from app.cases.schemas import ACTION, ACTION_UPDATE
from app.cases.use_cases import add_entry, load_case_for_work
from app.kernel import audit
from app.kernel.errors import Conflict, Forbidden, NotFound, StaleVersion
from app.kernel.security import CaseAccess, can, case_access
from app.kernel.uow import unit_of_work
from app.models import ActionStatus, CaseAction, User, utcnow
from app.notifications import notify


def add_action(actor, case_id: int, payload: Any) -> CaseAction:
    if not can(actor, "can_manage_actions"):
        raise Forbidden()
    with unit_of_work() as session:
        case = load_case_for_work(session, actor, case_id)
        form = ACTION.read(payload)
        title, owner_id, due_date = form["title"], form["owner_id"], form["due_date"]
        owner = session.get(User, owner_id) if owner_id is not None else None
        if owner_id is not None and (owner is None or not owner.is_active
                                     or case_access(session, owner, case.id) is not CaseAccess.FULL):
            form.error("owner_id", "Choose an officer who can work on this case.")
        form.check()
        assert owner is not None  # form.check() refused a missing or unsuitable owner
        action = CaseAction(case_id=case.id, title=title, owner_id=owner.id, due_date=due_date,
                            status=ActionStatus.open, created_by_id=actor.id)
        session.add(action)
        session.flush()
        audit.record(session, actor, "add_action", action)
        add_entry(session, case, actor, "action_added", f"Action added for {owner.username}: {title}",
               data={"action_id": action.id, "due_date": due_date})
        notify.action_assigned(session, action, case)
        return action


def update_action(actor, action_id: int, payload: Any) -> CaseAction:
    """Completes or cancels an open action (a completion note is required when done)."""
    if not can(actor, "can_manage_actions"):
        raise Forbidden()
    with unit_of_work() as session:
        action = session.get(CaseAction, action_id)
        # The same 404 for an action on a case the user may not work on as for no action at all.
        if action is None or case_access(session, actor, action.case_id) is not CaseAccess.FULL:
            raise NotFound("action")
        case = action.case
        form = ACTION_UPDATE.read(payload)
        status = form["status"]
        if status == ActionStatus.done.value:
            form.require("completion_note")
        note, version = form["completion_note"], form["version"]
        form.check()
        if version is not None and version != action.version:
            raise StaleVersion(case.status.value)
        if action.status != ActionStatus.open:
            raise Conflict(f"The action is already {action.status.value}.", case.status.value)
        action.status = ActionStatus(status)
        action.completion_note = note
        action.completed_at = utcnow()
        audit.record(session, actor, f"action_{status}", action, reason=note)
        add_entry(session, case, actor, f"action_{status}", f"Action {status}: {action.title}", reason=note,
               data={"action_id": action.id})
        return action
