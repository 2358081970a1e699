"""A monitoring alert as the API gives it."""
from __future__ import annotations

from typing import Any

from app.kernel.formats import iso
from app.monitoring.models import MonitoringAlert


def alert_json(alert: MonitoringAlert, full: bool = True) -> dict[str, Any]:
    """The alert as sent; with `full` (officers and the Lead), its triage too. A source sending an alert gets back
    what it sent, never how it was triaged."""
    result: dict[str, Any] = {
        "id": alert.id, "source": alert.source.name, "source_id": alert.source_alert_id,
        "occurred_at": iso(alert.occurred_at), "received_at": iso(alert.received_at), "user": alert.user_name,
        "category": alert.category, "severity": alert.severity.value, "excerpt": alert.excerpt,
    }
    if full:
        result.update(state=alert.state.value, triaged_at=iso(alert.triaged_at),
                      triaged_by=alert.triaged_by.username if alert.triaged_by else None,
                      dismiss_reason=alert.dismiss_reason, case_id=alert.case_id)
    return result
