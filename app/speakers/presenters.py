"""A speaker request as the API gives it: the person who asked reads the decision, its reason and any conditions;
officers and the Lead read too what was checked, the risk, who decided, and the speaker's earlier declined requests
(`declined_before`: empty when there are none)."""
from __future__ import annotations

from typing import Any

from app.kernel import formats
from app.speakers.models import SpeakerRequest


def _earlier(row: SpeakerRequest) -> dict[str, Any]:
    return {"id": row.id, "event_date": formats.iso(row.event_date), "topic": row.topic,
            "decided_at": formats.iso(row.decided_at), "reason": row.reason}


def request_json(row: SpeakerRequest, *, officer: bool, declined: list[SpeakerRequest] | None = None) \
        -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": row.id, "speaker": row.speaker, "topic": row.topic, "event_date": formats.iso(row.event_date),
        "audience": row.audience, "format": row.format.value, "materials": row.materials,
        "materials_file": {"filename": row.materials_file.filename, "size": row.materials_file.size}
        if row.materials_file else None,
        "requested_at": formats.iso(row.requested_at), "status": row.decision.value if row.decision else "requested",
        "decision": row.decision.value if row.decision else None, "reason": row.reason, "conditions": row.conditions,
        "decided_at": formats.iso(row.decided_at),
    }
    if officer:
        answer.update({
            "requested_by": row.requested_by.username, "checks": row.checks,
            "risk": row.risk.value if row.risk else None,
            "decided_by": row.decided_by.username if row.decided_by else None,
            "declined_before": [_earlier(earlier) for earlier in declined or []],
        })
    return answer
