"""How training looks in JSON: a record, and compliance."""
from __future__ import annotations

from typing import Any

from app.kernel.formats import iso
from app.models import (
    TrainingRecord,
)
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
                "course": row.course, "completed_on": iso(row.completed_on), "refresher_due": iso(row.refresher_due),
                "status": row.status.value}

    result: dict[str, Any] = {"as_of": iso(compliance.today), "overall": figures(compliance.overall),
                              "teams": [{"team": group.label, **figures(group)} for group in compliance.teams]}
    if compliance.overdue is not None:
        result["overdue"] = [person(row) for row in compliance.overdue]
        result["due_soon"] = [person(row) for row in compliance.due_soon]
    return result
