"""Each person's choice of how to receive non-urgent email."""
from __future__ import annotations

from typing import Any

from app.kernel.errors import Forbidden
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.models import NotificationPreference
from app.notifications.schemas import PREFERENCES


def set_daily_digest(actor, payload: Any) -> bool:
    if not can(actor, "can_edit", "Notifications"):
        raise Forbidden()
    with unit_of_work() as session:
        daily_digest = PREFERENCES.check(payload)["daily_digest"]
        preference = session.get(NotificationPreference, actor.id) or NotificationPreference(user_id=actor.id)
        preference.daily_digest = daily_digest
        session.add(preference)
        return daily_digest
