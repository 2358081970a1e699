"""How employers look in JSON: the employer with its standing, its apprentices, its communications, coverage."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.employers.use_cases import Coverage, Figures, Standing
from app.kernel.formats import iso
from app.models import (
    Employer,
    EmployerCommunication,
    Subject,
)


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
