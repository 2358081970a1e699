"""What the pages' forms share beyond reading them (GOV.UK's patterns, written once):

- dates typed UK style, as day/month/year boxes (`name-day`, `name-month`, `name-year`, and `name-time` for a moment)
  or as one box reading dd/mm/yyyy, joined into what the use cases take (ISO 8601), so that the API is unchanged;
- each form's own words for the use cases' general messages: "This field is required." on the concern form's
  description becomes "Enter what you saw or heard". The use cases and the API keep their messages; a page speaks
  about its own fields, in the order they are on the page.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

REQUIRED = "This field is required."
FUTURE = "This cannot be in the future."
DATE_FORMAT_MESSAGES = frozenset({"Enter a date as YYYY-MM-DD.", "Enter a date and time as YYYY-MM-DDTHH:MM."})
PARTS = ("day", "month", "year")
BOX = re.compile(r"^(?P<name>.+)-(?P<part>day|month|year|time)$")
UK_DATE = re.compile(r"(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(r"(\d{1,2})(?:\s*[:.]?\s*(\d{2}))?\s*([ap]\.?m\.?)?", re.IGNORECASE)
NOT_A_DATE = "not a date"  # what the use case is given for a date that cannot be read: it refuses it, as the API would


@dataclass(frozen=True)
class Words:
    """How one form speaks about one of its fields.

    `required` replaces "This field is required."; `date` (and `time`) name a date field in a sentence ("the date it
    happened"), from which its messages are written as GOV.UK writes them; `other` rewords any other message."""

    required: str | None = None
    date: str | None = None
    time: str | None = None
    other: Mapping[str, str] = field(default_factory=dict)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _date_problem(words: Words, problem: str) -> str | None:
    name = words.date or "the date"
    time = words.time or "the time"
    if problem.startswith("missing:"):
        return f"{_sentence(name)} must include a {problem.split(':', 1)[1]}"
    return {
        "not_real": f"{_sentence(name)} must be a real date",
        "format": f"Enter {name} as day, month and year, for example 27/3/2026",
        "year": f"The year of {name} must include 4 numbers",
        "time_blank": f"Enter {time}",
        "time_bad": f"Enter {time} as hours and minutes, for example 14:30",
    }.get(problem)


def specific(errors: Mapping[str, list[str]], table: Mapping[str, Words],
             problems: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The use case's field errors in the form's own words, in the order of `table` (the order of the page)."""
    problems = problems or {}
    order = {name: index for index, name in enumerate(table)}
    worded: dict[str, list[str]] = {}
    for name in sorted(errors, key=lambda n: order.get(n, len(order))):
        words = table.get(name, Words())
        messages: list[str] = []
        for message in errors[name]:
            if name in problems and (message in DATE_FORMAT_MESSAGES or message == REQUIRED):
                message = _date_problem(words, problems[name]) or message
            elif message == REQUIRED:
                message = words.required or (f"Enter {words.date}" if words.date else message)
            elif message in words.other:
                message = words.other[message]
            elif message == FUTURE and words.date:
                message = f"{_sentence(words.date)} must be today or in the past"
            elif message in DATE_FORMAT_MESSAGES and words.date:
                message = f"{_sentence(words.date)} must be a real date"
            else:
                message = words.other.get(message, message)
            if message not in messages:
                messages.append(message)
        worded[name] = messages
    return worded


def for_use_case(typed: Mapping[str, Any], dates: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as typed, as the use case takes it: date boxes joined into ISO dates (and times), single date boxes
    (named in `dates`) read in UK order; and what was wrong with each date that could not be read (for `specific`).
    Nested objects (`subject`) are read the same way; their problems are named `subject.field`."""
    problems: dict[str, str] = {}
    payload = _join(typed, dates, problems, "")
    return payload, problems


def _join(typed: Mapping[str, Any], dates: tuple[str, ...], problems: dict[str, str], prefix: str) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    boxed: set[str] = set()
    for key, value in typed.items():
        match = BOX.match(key) if isinstance(key, str) else None
        if match:
            boxed.add(match["name"])
        elif isinstance(value, dict):
            payload[key] = _join(value, (), problems, f"{prefix}{key}.")
        else:
            payload[key] = value
    for name in boxed:
        payload[name] = _join_boxes(typed, name, problems, prefix + name)
    for name in dates:
        value = payload.get(name)
        if isinstance(value, str) and value.strip():
            payload[name] = _read_uk_date(value, problems, prefix + name)
    return payload


def _join_boxes(typed: Mapping[str, Any], name: str, problems: dict[str, str], key: str) -> str:
    parts = {part: str(typed.get(f"{name}-{part}") or "").strip() for part in PARTS}
    has_time = f"{name}-time" in typed
    time_text = str(typed.get(f"{name}-time") or "").strip()
    if not any(parts.values()):
        return ""  # the use case says whether it was needed
    missing = [part for part in PARTS if not parts[part]]
    if missing:
        problems[key] = "missing:" + missing[0]
        return NOT_A_DATE
    if not all(parts[part].isdigit() for part in PARTS):
        problems[key] = "not_real"
        return NOT_A_DATE
    if len(parts["year"]) != 4:
        problems[key] = "year"
        return NOT_A_DATE
    try:
        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        problems[key] = "not_real"
        return NOT_A_DATE
    if not has_time:
        return day.isoformat()
    if not time_text:
        problems[key] = "time_blank"
        return NOT_A_DATE
    clock = read_time(time_text)
    if clock is None:
        problems[key] = "time_bad"
        return NOT_A_DATE
    return f"{day.isoformat()}T{clock[0]:02d}:{clock[1]:02d}"


def read_time(text: str) -> tuple[int, int] | None:
    """"14:30", "1430", "14.30", "2:30pm", "2pm" as (hour, minute); None when it is not a time of day."""
    match = TIME.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match[3].lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def _read_uk_date(text: str, problems: dict[str, str], key: str) -> str:
    text = text.strip()
    if ISO_DATE.fullmatch(text):
        return text  # as the API takes it (and as a browser may fill it in)
    match = UK_DATE.fullmatch(text)
    if not match:
        problems[key] = "format"
        return text
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        problems[key] = "not_real"
        return NOT_A_DATE


# --- shown in the forms (Jinja filters, registered with the others in app/kernel/formats.py) --------------------

def date_parts(value: Any) -> dict[str, str]:
    """A date (or an ISO date or moment, as the API and older forms send it) as the boxes show it."""
    if isinstance(value, str) and ISO_DATE.match(value.strip()):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return {}
    if isinstance(value, date):
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
    return {}


def time_part(value: Any) -> str:
    """The time of an ISO moment ("2026-03-27T14:30" gives "14:30"), as the time box shows it; "" for none."""
    match = re.match(r"\d{4}-\d{2}-\d{2}[T ](\d{2}:\d{2})", value.strip()) if isinstance(value, str) else None
    return match[1] if match else ""


def uk_date_input(value: Any) -> str:
    """A value for a dd/mm/yyyy box: a date the server gives in UK order; what someone typed, as they typed it."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)
