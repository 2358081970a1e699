"""Parsing of user input into typed values. Each parser raises ValueError with a message fit for the user."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Optional

from app.errors import InvalidData

TRUE_WORDS = {"yes", "true", "1", "y", "on"}
FALSE_WORDS = {"no", "false", "0", "n", "off"}


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_date(raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError("Enter a date as YYYY-MM-DD.") from None


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_iso_or_uk_date(raw: Any) -> date:
    """A date as YYYY-MM-DD, or in UK order as DD/MM/YYYY (how spreadsheets and eLearning exports here write it).
    Anything else is refused rather than guessed: 03/04/25 or 2025/04/03 can each be read more than one way."""
    text = str(raw).strip()
    uk = UK_DATE.fullmatch(text)
    if uk:
        day, month, year = (int(part) for part in uk.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{text} is not a date in day/month/year order.") from None
    if not ISO_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a date.") from None


def parse_datetime(raw: Any, naive_zone: tzinfo = timezone.utc) -> datetime:
    """ISO 8601; a time without a zone is read in `naive_zone` (UTC for the API, UK time for the pages)."""
    if isinstance(raw, datetime):
        value = raw
    else:
        text = str(raw).strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("Enter a date and time as YYYY-MM-DDTHH:MM.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_zone)
    return value.astimezone(timezone.utc)


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError("Answer yes or no.")


def parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("Enter a whole number.")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError("Enter a whole number.") from None


def text_parser(limit: int) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, (str, int, float)):
            raise ValueError("Enter text.")
        text = str(raw).strip()
        if len(text) > limit:
            raise ValueError(f"Keep this under {limit} characters.")
        return text
    return parse


def choice_parser(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = str(raw).strip()
        if text not in choices:
            raise ValueError("Choose one of: " + ", ".join(choices) + ".")
        return text
    return parse


def not_in_future(value, now: Optional[datetime] = None):
    now = now or datetime.now(timezone.utc)
    limit = now + timedelta(minutes=5) if isinstance(value, datetime) else now.date()
    if value > limit:
        raise ValueError("This cannot be in the future.")
    return value


class Form:
    """Collects parsed fields and their errors, so that one request reports every bad field at once."""

    def __init__(self, payload: Any):
        if not isinstance(payload, dict):
            raise InvalidData({"_schema": ["Send a JSON object."]})
        self.payload = payload
        self.errors: dict[str, list[str]] = {}

    def field(self, name: str, parse: Callable[[Any], Any], *, required: bool = True, default: Any = None) -> Any:
        raw = self.payload.get(name)
        if is_blank(raw):
            if required:
                self.errors.setdefault(name, []).append("This field is required.")
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            self.errors.setdefault(name, []).append(str(exc))
            return default

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def check(self) -> None:
        if self.errors:
            raise InvalidData(self.errors)
