"""How values are shown to people, written once: stored names as words, dates and times as in the UK. Pages use them
as Jinja filters (`|words`, `|uk_date`, `|uk_datetime`, `|human`, registered here by `register_filters`); exported files
call them directly."""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from zoneinfo import ZoneInfo

from flask import Flask

from app.kernel import page_forms

UK = ZoneInfo("Europe/London")
DAY, DAY_FULL_MONTH = "%d %b %Y", "%d %B %Y"  # 01 Dec 2026, 01 December 2026
MINUTE, SECOND = "%d %b %Y %H:%M", "%d %b %Y %H:%M:%S"


# Stored names whose words are not their own with spaces.
SAID = {"parent_carer": "parent or carer", "onward_support": "onward to other support"}


def words(value) -> str:
    """A stored name as words: "no_further_action" becomes "no further action"."""
    return SAID.get(str(value)) or str(value).replace("_", " ")


def uk_date(value: date | None, full_month: bool = False) -> str:
    """A day ("01 Dec 2026", or "01 December 2026" with `full_month`): a date as it is, a moment as the day it was
    in the UK; "" for none."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UK)
    return value.strftime(DAY_FULL_MONTH if full_month else DAY)


def uk_datetime(value: datetime | None, seconds: bool = False) -> str:
    """A moment in UK time, to the minute ("01 Dec 2026 16:30") or to the second; "" for none."""
    return "" if value is None else value.astimezone(UK).strftime(SECOND if seconds else MINUTE)


def human(value) -> str:
    """A value in a generic list or record page, as people say it: Yes/No, not True/False; "Contributory factor",
    not contributory_factor; dates the UK way; a list as words; nothing for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return uk_datetime(value)
    if isinstance(value, date):
        return uk_date(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(human(item) for item in value)
    if isinstance(value, Enum):
        spoken = words(value.value)
        return spoken[:1].upper() + spoken[1:]
    return str(value)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(words=words, uk_date=uk_date, uk_datetime=uk_datetime, human=human,
                                 date_parts=page_forms.date_parts, time_part=page_forms.time_part,
                                 uk_date_input=page_forms.uk_date_input)


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()
