"""The password rule, applied wherever a password is set: FAB's forms and user API (through its complexity hook), the
security manager's add_user and reset_password (which FAB's CLI and our seeding call), and the demo set-up.

At least PASSWORD_MIN_LENGTH characters, and not one of the 20 000 most common passwords (the list Django ships,
kept in app/identity/data/ so that nothing is fetched at run time).
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_appbuilder.exceptions import PasswordComplexityValidationError

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password(password: str) -> None:
    """Raises PasswordComplexityValidationError, with a message for the person choosing it, if the rule fails."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise PasswordComplexityValidationError(f"Use at least {minimum} characters: a few words make a good one.")
    if password.strip().lower() in _common():
        raise PasswordComplexityValidationError("That password is too common: choose another.")
