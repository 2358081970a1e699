"""A subcontractor as the API gives it."""
from __future__ import annotations

from typing import Any

from app.models import Subcontractor


def subcontractor_json(subcontractor: Subcontractor) -> dict[str, Any]:
    return {"id": subcontractor.id, "name": subcontractor.name, "contact_name": subcontractor.contact_name,
            "contact_email": subcontractor.contact_email, "contact_phone": subcontractor.contact_phone,
            "programmes": subcontractor.programme_list, "active": subcontractor.active}
