"""A directory contact as the API and the referral form give it."""
from __future__ import annotations

from typing import Any

from app.directory.models import DirectoryContact
from app.directory.schemas import KIND_LABELS


def contact_json(contact: DirectoryContact) -> dict[str, Any]:
    return {
        "id": contact.id, "kind": contact.kind.value, "kind_label": KIND_LABELS[contact.kind], "name": contact.name,
        "organisation": contact.organisation,
        "phone": contact.phone, "email": contact.email, "notes": contact.notes,
        "local_authorities": contact.authority_list, "postcode_districts": contact.district_list,
        "region": contact.region,
    }
