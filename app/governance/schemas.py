"""The bodies of the Prevent Lead's writes (reviews, retention decisions) and of the report and export arguments:
one schema each, which validates them and documents the API's. Each limit and choice is written here only."""
from __future__ import annotations

from app.kernel.schemas import Body, Bool, Choice, Date, IdList, Text

REVIEW_NOTE_MAX = 10_000
RETENTION_REASON_MAX = 2_000
STAFF_KEY_MAX = 320  # an email address or an employee reference
# The chronology's export formats, and the type each is served as.
EXPORT_FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
SUBJECT_ACCESS_FORMATS = ("json", "pdf")


class ReviewSchema(Body):
    """The Prevent Lead's periodic review of an open case (a page)."""

    reviewed_on = Date()  # today, when not given
    note = Text(REVIEW_NOTE_MAX, required=True)
    next_review_due = Date()  # LEAD_REVIEW_INTERVAL_DAYS on, when not given


REVIEW = ReviewSchema()


class ChronologyExportSchema(Body):
    """A case's chronology as a file (query arguments)."""

    format = Choice(tuple(EXPORT_FORMATS), required=True)
    redact_staff = Bool()


CHRONOLOGY_EXPORT = ChronologyExportSchema()


# The Programme Board report's period (query arguments): `from` is a Python keyword, so the fields are named here.
PERIOD = Body.of({"from": Date(required=True), "to": Date(required=True)}, name="PeriodSchema")


class ApproveErasureSchema(Body):
    subject_ids = IdList(empty="Choose at least one record to approve.", bad="Choose records from the list.")
    reason = Text(RETENTION_REASON_MAX, required=True)


APPROVE_ERASURE = ApproveErasureSchema()


class LegalHoldSchema(Body):
    hold = Bool(required=True)
    reason = Text(RETENTION_REASON_MAX, required=True)


LEGAL_HOLD = LegalHoldSchema()


class StaffRecordSchema(Body):
    staff = Text(STAFF_KEY_MAX, required=True)


STAFF_RECORD = StaffRecordSchema()


class SubjectAccessExportSchema(Body):
    """The subject access export (query arguments)."""

    format = Choice(SUBJECT_ACCESS_FORMATS, required=True)


SUBJECT_ACCESS_EXPORT = SubjectAccessExportSchema()
