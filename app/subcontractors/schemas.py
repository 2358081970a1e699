"""The body of every write about subcontractors (the Prevent Lead's pages): one schema, which validates the form.
Each field's limit is written here and nowhere else."""
from __future__ import annotations

from app.employers.schemas import contact_email
from app.kernel.schemas import Body, Text, Whole

NAME_MAX = 200
PHONE_MAX = 50
EMAIL_MAX = 320
PROGRAMMES_MAX = 5_000


class SubcontractorSchema(Body):
    """A subcontractor, its Prevent contact and the programmes it delivers (one a line)."""

    name = Text(NAME_MAX, required=True)
    contact_name = Text(NAME_MAX)
    contact_email = Text(EMAIL_MAX, check=contact_email, format="email")
    contact_phone = Text(PHONE_MAX)
    programmes = Text(PROGRAMMES_MAX)
    version = Whole()  # the version read, when changing one (409 if someone changed it since)


SUBCONTRACTOR = SubcontractorSchema()
