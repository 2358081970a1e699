"""How training looks in JSON: a record, and compliance."""
from __future__ import annotations

from typing import Any

from app.kernel.formats import iso
from app.models import TrainingCourse, TrainingRecord, TrainingRequirement
from app.training import use_cases as training


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
                "subcontractor_id": row.staff.subcontractor_id,
                "course": row.course, "completed_on": iso(row.completed_on), "refresher_due": iso(row.refresher_due),
                "status": row.status.value,
                "outstanding": [{"course": item.course, "refresher_due": iso(item.refresher_due)}
                                for item in row.outstanding]}

    result: dict[str, Any] = {
        "as_of": iso(compliance.today), "overall": figures(compliance.overall),
        "teams": [{"team": group.label, **figures(group)} for group in compliance.teams],
        "subcontractors": [{"subcontractor": group.label, **figures(group)} for group in compliance.subcontractors],
        "requirements": [requirement_json(r) for r in compliance.requirements],
    }
    if compliance.overdue is not None:
        result["overdue"] = [person(row) for row in compliance.overdue]
        result["due_soon"] = [person(row) for row in compliance.due_soon]
    return result


def requirement_json(requirement: TrainingRequirement) -> dict:
    return {"id": requirement.id, "course_id": requirement.course_id, "course": requirement.course.name,
            "role": requirement.role, "team": requirement.team}


def course_json(course: TrainingCourse) -> dict:
    return {"id": course.id, "name": course.name, "kind": course.kind.value,
            "refresher_months": course.refresher_months}
