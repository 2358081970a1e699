"""Parsing of user input into typed values. Each parser raises ValueError with a message fit for the user; the
fields of app/kernel/schemas.py wrap them."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

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


def parse_datetime(raw: Any, naive_zone: tzinfo = UTC) -> datetime:
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
    return value.astimezone(UTC)


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError("Answer yes or no.")


LARGEST_INT = 2**31 - 1  # the database's INTEGER (32 bits on PostgreSQL): ids and versions


def parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("Enter a whole number.")
    try:
        number = raw if isinstance(raw, int) else int(str(raw).strip())
    except ValueError:
        raise ValueError("Enter a whole number.") from None
    if not -LARGEST_INT - 1 <= number <= LARGEST_INT:
        raise ValueError("This number is too large.")
    return number


# The JSON types each parser takes from an API client (a string, when a parser does not say). The pages send text
# only, which the parsers read leniently ("12"); an API client sends 12, as its document says. Yes/no answers may
# be true/false or the words (the contract names "yes" and "no").
BOOL_TYPES = (bool, str)
parse_bool.json_type = BOOL_TYPES
parse_int.json_type = int
JSON_TYPE_MESSAGES = {BOOL_TYPES: "Answer true or false (or yes or no).", int: "Send a whole number.",
                      str: "Send this as a JSON string."}


def is_json_type(raw: Any, json_type: Any) -> bool:
    types = json_type if isinstance(json_type, tuple) else (json_type,)
    return isinstance(raw, types) and (bool in types or not isinstance(raw, bool))


def text_parser(limit: int) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, (str, int, float)):
            raise ValueError("Enter text.")
        text = str(raw).strip()
        if len(text) > limit:
            raise ValueError(f"Keep this under {limit} characters.")
        if "\x00" in text:  # PostgreSQL stores no NUL character in text
            raise ValueError("Remove the NUL character from this text.")
        return text
    return parse


def choice_parser(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = str(raw).strip()
        if text not in choices:
            raise ValueError("Choose one of: " + ", ".join(choices) + ".")
        return text
    return parse


def not_in_future(value, now: datetime | None = None):
    now = now or datetime.now(UTC)
    limit = now + timedelta(minutes=5) if isinstance(value, datetime) else now.date()
    if value > limit:
        raise ValueError("This cannot be in the future.")
    return value


# Keys of our records that only the system writes. A client sending one is told so plainly, rather than "unknown".
PROTECTED_FIELDS = frozenset({
    "id", "reference", "status", "version", "owner", "created_by", "created_by_id", "created_at", "updated_at",
    "reporter", "reporter_id", "recorded_at", "urgent", "restricted", "closure_outcome", "completed_at",
    "granted_by", "granted_by_id", "granted_at", "verified", "verified_by", "verified_by_id", "verified_at",
    "staff_member_id", "case_id", "owner_id", "ack_nonce", "name_key", "user_id", "opened_at", "expires_at",
    "legal_hold", "erasure_due_on", "erasure_rule", "erasure_approved_by_id", "erasure_approved_at", "erased_at",
})
PROTECTED_MESSAGE = "This field cannot be set: the system sets it."
UNKNOWN_MESSAGE = "Unknown field."


class ApiPayload(dict):
    """A JSON API request body. A schema reads one strictly (app/kernel/schemas.py): every key it does not read is
    refused (422), so that a client learns at once that a field was not taken, and no field the system sets (status,
    owner, version ...) can be slipped in; each value must come as the JSON type its field takes. The pages' posted
    forms stay plain dicts and are not checked so: they carry csrf_token and button names besides their fields, and a
    key no form reads changes nothing either way."""
