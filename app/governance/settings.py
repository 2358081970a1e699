"""The provider's settings (app/kernel/settings.py) as their keepers see and change them: each setting by the role
it names (the review grace: the Prevent Lead). Each change is audited with the value before and after; a value sent
unchanged changes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.kernel import audit
from app.kernel import settings as provider_settings
from app.kernel.errors import Forbidden, InvalidData
from app.kernel.security import can
from app.kernel.settings import SETTINGS, Setting
from app.kernel.uow import unit_of_work
from app.models import ProviderSetting, utcnow


@dataclass(frozen=True)
class Shown:
    setting: Setting
    value: int


def _theirs(actor) -> list[Setting]:
    return [setting for setting in SETTINGS.values() if can(actor, *setting.permission)]


def current(session: Session, actor) -> list[Shown]:
    """The settings this user keeps, with their values."""
    mine = _theirs(actor)
    if not mine:
        raise Forbidden()
    return [Shown(setting, provider_settings.read(session, setting)) for setting in mine]


def change(actor, payload: Any) -> list[Setting]:
    """Sets the settings named in `payload` ({key: value}); returns those whose value changed. Any setting the
    user does not keep is refused (403); a value out of its limits, 422, and nothing changes."""
    if not isinstance(payload, dict) or not payload:
        raise InvalidData({"_schema": ["Send the settings to change, by name."]})
    unknown = [key for key in payload if key not in SETTINGS]
    if unknown:
        raise InvalidData({key: ["There is no such setting."] for key in unknown})
    if not _theirs(actor) or any(not can(actor, *SETTINGS[key].permission) for key in payload):
        raise Forbidden()
    values, errors = {}, {}
    for key, raw in payload.items():
        try:
            values[key] = SETTINGS[key].parse(raw)
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise InvalidData(errors)
    changed = []
    with unit_of_work("setting") as session:
        for key, value in values.items():
            setting = SETTINGS[key]
            row = _stored(session, key)
            if row is not None and row.value == str(value):
                continue
            if row is None:  # a new record is audited once it has its id; a change, before the flush that writes it
                row = ProviderSetting(key=key, value=str(value), changed_at=utcnow(), changed_by_id=actor.id)
                session.add(row)
                session.flush()
            else:
                row.value, row.changed_at, row.changed_by_id = str(value), utcnow(), actor.id
            audit.record(session, actor, "change_setting", row, reason=f"{setting.label}: {value} {setting.unit}")
            changed.append(setting)
    return changed


def _stored(session: Session, key: str) -> ProviderSetting | None:
    return session.scalar(sa.select(ProviderSetting).where(ProviderSetting.key == key))
