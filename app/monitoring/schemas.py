"""The bodies of every write on monitoring: an alert as a source sends it, a source as the Admin names it, and the
officers' triage. One schema each, which validates the body and documents it; each field's limit and choices are
written here and nowhere else."""
from __future__ import annotations

from app.cases.schemas import SUBJECT
from app.kernel.schemas import Body, Choice, DateTime, Id, Object, Text
from app.monitoring.models import SOURCE_ALERT_ID_MAX, SOURCE_NAME_MAX, AlertSeverity

SEVERITIES = tuple(s.value for s in AlertSeverity)
USER_MAX = 200
CATEGORY_MAX = 200
EXCERPT_MAX = 5_000
REASON_MAX = 2_000
NOTE_MAX = 5_000


class AlertSchema(Body):
    """An alert from a web filtering or monitoring system. `source_id` is the source's own id for it: the same id
    again is the same alert."""

    source_id = Text(SOURCE_ALERT_ID_MAX, required=True)
    occurred_at = DateTime(past=True, required=True)
    user = Text(USER_MAX, required=True)  # the user of the device, as the source names them
    category = Text(CATEGORY_MAX, required=True)
    severity = Choice(SEVERITIES, required=True)
    excerpt = Text(EXCERPT_MAX, required=True)


ALERT = AlertSchema()


class SourceSchema(Body):
    """A monitoring source, by the name the Admin gives it (the system's name, such as "Web filter")."""

    name = Text(SOURCE_NAME_MAX, required=True)


SOURCE = SourceSchema()


class DismissSchema(Body):
    """Dismissing an alert: why it needs no concern."""

    reason = Text(REASON_MAX, required=True)


DISMISS = DismissSchema()


class RaiseFromAlertSchema(Body):
    """Raising a concern from an alert: who it is about (a person already recorded, or a new one), and what the
    officer adds to the alert's own words, which the concern quotes."""

    subject_id = Id()
    subject = Object(SUBJECT)
    note = Text(NOTE_MAX)


RAISE_FROM_ALERT = RaiseFromAlertSchema()
