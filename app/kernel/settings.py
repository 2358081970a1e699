"""The provider's settings that users change (not deployment configuration, which is config.py's): which there are,
each with its type, default and limits, and reading one, typed. A setting never changed reads as its default.
Changing them is the use case in app/governance/settings.py (audited, by the roles the setting names)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import ProviderSetting


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    hint: str
    default: int
    least: int
    most: int
    unit: str  # "days"
    permission: tuple[str, str]  # (action, resource) that may change it

    def parse(self, raw: object) -> int:
        """The value as typed or sent: a whole number within the limits, or ValueError with the message to show."""
        text = str(raw).strip() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
        if not text:
            raise ValueError(f"Enter the {self.label.lower()}, in {self.unit}.")
        if not text.lstrip("-").isdigit():
            raise ValueError(f"The {self.label.lower()} must be a whole number of {self.unit}, like 14.")
        value = int(text)
        if not self.least <= value <= self.most:
            raise ValueError(f"The {self.label.lower()} must be from {self.least} to {self.most} {self.unit}.")
        return value


REVIEW_GRACE_DAYS = Setting(
    "review_grace_days", "Review grace",
    "How many days before its due date a 6- or 12-month post-exit review may be recorded.",
    default=14, least=0, most=60, unit="days", permission=("can_manage", "Settings"))

SETTINGS: dict[str, Setting] = {s.key: s for s in (REVIEW_GRACE_DAYS,)}


def read(session: Session, setting: Setting) -> int:
    """The setting's value: as last changed, or its default. A stored value that no longer reads (a limit since
    narrowed) counts as the default."""
    stored = session.scalar(sa.select(ProviderSetting.value).where(ProviderSetting.key == setting.key))
    if stored is None:
        return setting.default
    try:
        return setting.parse(stored)
    except ValueError:
        return setting.default
