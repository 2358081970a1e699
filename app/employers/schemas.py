"""The bodies of every write about partner employers (pages and API alike): one schema each, which validates the
body and documents it. Each field's limit and choices are written here and nowhere else."""
from __future__ import annotations

import re

from app.employers.models import AttachmentKind, CommunicationMethod, SharedItem
from app.kernel.schemas import Body, Bool, Choice, ChoiceList, Date, Id, Parsed, Text, Whole

METHODS = tuple(m.value for m in CommunicationMethod)
SHARED_ITEMS = tuple(s.value for s in SharedItem)
ATTACHMENT_KINDS = tuple(k.value for k in AttachmentKind)
SUMMARY_MAX = 5_000
ACKNOWLEDGED_BY_MAX = 200
# (field, longest accepted) for the employer's own details
EMPLOYER_TEXT_FIELDS = {"name": 200, "address": 2_000, "sector": 100, "contact_name": 200, "contact_email": 320,
                        "contact_phone": 50}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def contact_email(address: str) -> str:
    if not EMAIL_RE.match(address):
        raise ValueError("Enter an email address, such as name@example.org.")
    return address


def _details(*, name_required: bool) -> dict[str, Parsed]:
    fields: dict[str, Parsed] = {
        name: Text(limit, check=contact_email, format="email") if name == "contact_email" else Text(limit)
        for name, limit in EMPLOYER_TEXT_FIELDS.items()}
    fields["name"] = Text(EMPLOYER_TEXT_FIELDS["name"], required=name_required)
    fields["active"] = Bool()  # yes, when a new employer does not say
    fields["director_id"] = Id()  # the Prevent Lead must give it; a Programme Director keeps their own
    return fields


# A new employer: its name and the details known.
EMPLOYER = Body.of(_details(name_required=True), name="EmployerSchema")

# A change to an employer: the fields sent, and the version read (409 if someone changed it since).
EMPLOYER_UPDATE = Body.of({**_details(name_required=False), "version": Whole()}, name="EmployerUpdateSchema")


class CommunicationSchema(Body):
    occurred_on = Date(past=True, required=True)
    method = Choice(METHODS, required=True)
    shared = ChoiceList(SHARED_ITEMS, empty="Say what was shared.")
    summary = Text(SUMMARY_MAX)
    acknowledged_on = Date(past=True)  # with acknowledged_by, or neither
    acknowledged_by = Text(ACKNOWLEDGED_BY_MAX)
    next_contact_due = Date()  # EMPLOYER_CONTACT_INTERVAL_MONTHS on, when not given


COMMUNICATION = CommunicationSchema()


class AcknowledgementSchema(Body):
    """An acknowledgement that came back later (a page)."""

    acknowledged_on = Date(past=True, required=True)
    acknowledged_by = Text(ACKNOWLEDGED_BY_MAX, required=True)
    version = Whole()


ACKNOWLEDGEMENT = AcknowledgementSchema()


class AttachmentSchema(Body):
    """A file attached to a communication (a page; the file itself comes apart from the form's fields)."""

    kind = Choice(ATTACHMENT_KINDS, required=True)


ATTACHMENT = AttachmentSchema()
