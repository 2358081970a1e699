"""A person's age on a day, and whether they were a child then: the one rule the consent step, the MASH reminder and
the referral form share. Pure Python."""
from __future__ import annotations

from datetime import date

ADULT_AGE = 18


def age_on(born: date | None, day: date) -> int | None:
    """Whole years on `day` (None when the date of birth is not known)."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_under_18(born: date | None, day: date) -> bool:
    """Under 18 on `day`; False when the date of birth is not known."""
    age = age_on(born, day)
    return age is not None and age < ADULT_AGE
