"""How records look in JSON. One shape per audience: officers see the case, a reporter sees only their own concern."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app import workflow
from app.extensions import db
from app.models import (
    AccessLogEntry,
    AuditEvent,
    BreakGlass,
    Case,
    CaseAction,
    CaseStatus,
    Employer,
    EmployerCommunication,
    Subject,
    TrainingRecord,
)
from app.security import CaseAccess, can, case_access
from app.services import training
from app.services.cases import CaseRow, ChronologyItem
from app.services.employers import Coverage, Figures, Standing


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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


def employer_json(employer: Employer, standing: Standing, today: date) -> dict:
    director = employer.director
    return {
        "id": employer.id, "name": employer.name, "active": employer.active, "address": employer.address,
        "sector": employer.sector, "contact_name": employer.contact_name, "contact_email": employer.contact_email,
        "contact_phone": employer.contact_phone, "director_id": employer.director_id,
        "director": director.username if director else None, "version": employer.version,
        "last_acknowledged_on": iso(standing.last_acknowledged_on), "next_contact_due": iso(standing.next_contact_due),
        "due": standing.due_on <= today, "overdue": employer.active and not standing.covered(today),
    }


def apprentice_json(subject: Subject) -> dict:
    """Who is placed with an employer: a name and a programme, nothing of any concern about them."""
    return {"id": subject.id, "full_name": subject.full_name, "programme": subject.programme}


def communication_json(communication: EmployerCommunication) -> dict:
    return {
        "id": communication.id, "employer_id": communication.employer_id, "occurred_on": iso(communication.occurred_on),
        "method": communication.method.value, "shared": communication.shared, "summary": communication.summary,
        "acknowledged_on": iso(communication.acknowledged_on), "acknowledged_by": communication.acknowledged_by,
        "next_contact_due": iso(communication.next_contact_due),
        "sent_from_app": communication.outbox_email_id is not None,
        "created_by": communication.created_by.username, "created_at": iso(communication.created_at),
        "version": communication.version,
        "attachments": [{"id": a.id, "kind": a.kind.value, "filename": a.file.filename, "size": a.file.size,
                         "content_type": a.file.content_type} for a in communication.attachments],
    }


def figures_json(figures: Figures) -> dict:
    return {"active": figures.active, "covered": figures.covered, "overdue": figures.overdue,
            "percent": figures.percent}


def coverage_json(coverage: Coverage) -> dict:
    result: dict[str, Any] = {
        "as_of": iso(coverage.as_of), "overall": figures_json(coverage.overall),
        "by_director": [{"director": row.director, "director_id": row.director_id, **figures_json(row.figures)}
                        for row in coverage.by_director],
    }
    if coverage.overdue is not None:
        result["overdue"] = [{"id": employer.id, "name": employer.name, "director_id": employer.director_id,
                              "last_acknowledged_on": iso(standing.last_acknowledged_on),
                              "next_contact_due": iso(standing.next_contact_due)}
                             for employer, standing in coverage.overdue]
    return result


def training_record_json(record: TrainingRecord) -> dict:
    verifier = record.verified_by
    return {
        "id": record.id, "staff_member_id": record.staff_member_id, "staff_member": record.staff_member.full_name,
        "course_id": record.course_id, "course": record.course.name, "completed_on": iso(record.completed_on),
        "certificate_ref": record.certificate_ref, "has_certificate": record.certificate_file_id is not None,
        "refresher_due": iso(record.refresher_due), "recorded_at": iso(record.recorded_at),
        "verified": record.verified_at is not None, "verified_at": iso(record.verified_at),
        "verified_by": verifier.username if verifier else None,
    }


def compliance_json(compliance: training.Compliance) -> dict:
    def figures(group: training.Figures) -> dict:
        return {"active": group.active, "current": group.current, "due_soon": group.due_soon,
                "overdue": group.overdue, "percent": group.percent}

    def person(row: training.StaffRow) -> dict:
        return {"staff_member_id": row.staff.id, "full_name": row.staff.full_name, "team": row.staff.team,
                "course": row.course, "completed_on": iso(row.completed_on), "refresher_due": iso(row.refresher_due),
                "status": row.status.value}

    result: dict[str, Any] = {"as_of": iso(compliance.today), "overall": figures(compliance.overall),
                              "teams": [{"team": group.label, **figures(group)} for group in compliance.teams]}
    if compliance.overdue is not None:
        result["overdue"] = [person(row) for row in compliance.overdue]
        result["due_soon"] = [person(row) for row in compliance.due_soon]
    return result
