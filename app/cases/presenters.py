"""How records look in JSON. One shape per audience: officers see the case, a reporter sees only their own concern."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.cases.involved import person_json
from app.cases.use_cases import CaseRow, ChronologyItem
from app.extensions import db
from app.kernel import workflow
from app.kernel.formats import iso
from app.kernel.security import CaseAccess, can, case_access
from app.models import (
    AccessLogEntry,
    AuditEvent,
    BreakGlass,
    Case,
    CaseAction,
    CaseStatus,
    Subject,
)


def reporter_status(status: CaseStatus) -> str:
    """What a reporter is told: received, being looked at, or closed; never where the officers' work has led."""
    if status in (CaseStatus.reported, CaseStatus.closed):
        return status.value
    return CaseStatus.under_review.value


def case_json(case: Case, user, *, access: CaseAccess | None = None, flags: CaseRow | None = None) -> dict:
    access = access or case_access(db.session, user, case.id)
    if access is not CaseAccess.FULL:
        return {
            "id": case.id, "reference": case.reference, "status": reporter_status(case.status),
            "recorded_at": iso(case.recorded_at), "occurred_at": iso(case.occurred_at),
            "description": case.description, "subject_id": case.subject_id,
        }
    result: dict[str, Any] = {
        "id": case.id, "reference": case.reference, "status": case.status.value, "version": case.version,
        "subject_id": case.subject_id, "subject": subject_json(case.subject),
        "reporter": case.reporter.username, "description": case.description,
        "occurred_at": iso(case.occurred_at), "recorded_at": iso(case.recorded_at), "location": case.location,
        "concern_type_id": case.concern_type_id,
        "concern_type": case.concern_type.label if case.concern_type else None,
        "indicator_ids": [i.id for i in case.indicators],
        "immediate_danger": case.immediate_danger, "police_called": case.police_called,
        "police_incident_number": case.police_incident_number, "action_taken": case.action_taken,
        "dso_informed_verbally": case.dso_informed_verbally, "urgent": case.urgent, "restricted": case.restricted,
        "closure_outcome": case.closure_outcome.value if case.closure_outcome else None,
        "allowed_events": [row.event for row in workflow.allowed_events(case.status, lambda p: can(user, p))],
        "others_involved": [person_json(person) for person in case.people_involved],
    }
    for spec in {spec.column: spec for row in workflow.TRANSITIONS for spec in row.fields if spec.column}.values():
        value = getattr(case, spec.column)
        result[spec.column] = iso(value) if isinstance(value, (date, datetime)) else value
    if flags is not None:
        result.update(has_overdue_actions=flags.overdue, stalled=flags.stalled)
    return result


def subject_json(subject: Subject) -> dict:
    return {
        "id": subject.id, "full_name": subject.full_name, "subject_type": subject.subject_type.value,
        "date_of_birth": iso(subject.date_of_birth), "programme": subject.programme,
        "employer_id": subject.employer_id, "learner_ref": subject.learner_ref,
        "subcontractor_id": subject.subcontractor_id,
    }


def entry_json(item: ChronologyItem) -> dict:
    return {
        "at": iso(item.at), "kind": item.kind, "actor": item.actor, "summary": item.summary, "reason": item.reason,
        "from_status": item.from_status, "to_status": item.to_status, "data": item.data,
    }


def action_json(action: CaseAction) -> dict:
    return {
        "id": action.id, "case_id": action.case_id, "title": action.title, "owner_id": action.owner_id,
        "due_date": iso(action.due_date), "status": action.status.value, "completion_note": action.completion_note,
        "completed_at": iso(action.completed_at), "version": action.version,
        "overdue": action.is_overdue(date.today()),
    }


def audit_json(ev: AuditEvent) -> dict:
    return {
        "seq": ev.seq, "at": iso(ev.at), "actor": ev.actor, "action": ev.action, "entity_type": ev.entity_type,
        "entity_id": ev.entity_id, "from_status": ev.from_status, "to_status": ev.to_status, "reason": ev.reason,
        "changes": ev.changes or {}, "hash": ev.hash,
    }


def break_glass_json(opened: BreakGlass) -> dict:
    return {"id": opened.id, "case_id": opened.case_id, "user": opened.user.username, "reason": opened.reason,
            "opened_at": iso(opened.opened_at), "expires_at": iso(opened.expires_at)}


def access_json(entry: AccessLogEntry) -> dict:
    return {"at": iso(entry.at), "user": entry.user.username, "case_id": entry.case_id, "channel": entry.channel,
            "what": entry.what, "outside_own_work": entry.outside_own_work}
