"""The body of every write to the directory (the Prevent Lead's pages): one schema, which validates the form. Each
field's limit and choices are written here and nowhere else; the area's own rules (postcode districts, a region for
DfE coordinators) are the use case's."""
from __future__ import annotations

from app.directory.models import ContactKind
from app.employers.schemas import contact_email
from app.kernel.schemas import Body, Choice, Text, Whole

KINDS = tuple(kind.value for kind in ContactKind)
# Each kind in words, as the pages show it.
KIND_LABELS = {
    ContactKind.police_prevent: "Police Prevent team",
    ContactKind.channel_lead: "Local authority Channel lead",
    ContactKind.mash: "MASH (children's safeguarding front door)",
    ContactKind.dfe_coordinator: "DfE regional Prevent coordinator",
}
NOTES_MAX = 5_000
AUTHORITIES_MAX = 5_000
DISTRICTS_MAX = 2_000
REGION_MAX = 100


class ContactSchema(Body):
    """A contact and its area: local authorities one per line (or separated by semicolons: some official names,
    such as "Bristol, City of", hold a comma); postcode districts separated by commas or spaces."""

    kind = Choice(KINDS, required=True)
    name = Text(200, required=True)
    organisation = Text(200)
    phone = Text(50)
    email = Text(320, check=contact_email, format="email")
    notes = Text(NOTES_MAX)
    local_authorities = Text(AUTHORITIES_MAX, required=True)
    postcode_districts = Text(DISTRICTS_MAX)
    region = Text(REGION_MAX)  # needed for a DfE coordinator
    version = Whole()  # the version read, when changing a contact (409 if someone changed it since)


CONTACT = ContactSchema()
