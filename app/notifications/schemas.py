"""The body of each person's choice of how to receive non-urgent email (a page)."""
from __future__ import annotations

from app.kernel.schemas import Body, Bool


class PreferencesSchema(Body):
    daily_digest = Bool(required=True)


PREFERENCES = PreferencesSchema()
