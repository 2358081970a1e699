"""Each person's choice of how to receive non-urgent email."""
from __future__ import annotations

from typing import Any

from app.kernel.errors import Forbidden
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.kernel.validation import Form, parse_bool
from app.models import NotificationPreference


def set_daily_digest(actor, payload: Any) -> bool:
    if not can(actor, "can_edit", "Notifications"):
        raise Forbidden()
    with unit_of_work() as session:
        form = Form(payload)
        daily_digest = form.field("daily_digest", parse_bool)
        form.check()
        preference = session.get(NotificationPreference, actor.id) or NotificationPreference(user_id=actor.id)
        preference.daily_digest = daily_digest
        session.add(preference)
        return daily_digest
