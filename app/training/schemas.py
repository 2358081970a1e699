"""The bodies of every write about training (pages and API alike): one schema each, which validates the body and
documents the API's. Each field's limit and choices are written here and nowhere else."""
from __future__ import annotations

from typing import Any

from app.kernel.schemas import Body, Bool, Choice, Date, Id, Parsed, Text, Upload
from app.kernel.validation import text_parser

NAME_MAX = 200
EMAIL_MAX = 320
EMPLOYEE_REF_MAX = 64
TEAM_MAX = 100
CERTIFICATE_REF_MAX = 100
# The kinds of CSV file the Lead imports (app/training/imports.py reads each), and the encodings offered.
IMPORT_KIND_NAMES = ("completions", "staff")
ENCODINGS = {
    "auto": "Find out (UTF-8, else Windows-1252)",
    "utf-8-sig": "UTF-8",
    "cp1252": "Windows-1252 (Excel's usual CSV)",
    "latin-1": "Latin-1 (ISO-8859-1)",
}


def staff_email(raw: Any) -> str:
    """An email address on the staff list, lower-cased (the form's and the imported files')."""
    text = text_parser(EMAIL_MAX)(raw).lower()
    local, _, domain = text.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in text):
        raise ValueError("Enter an email address such as name@example.org.")
    return text


def _staff_fields() -> dict[str, Parsed]:
    return {
        "full_name": Text(NAME_MAX, required=True),
        "email": Parsed(staff_email, json={"type": "string", "maxLength": EMAIL_MAX, "format": "email"}),
        "employee_ref": Text(EMPLOYEE_REF_MAX),
        "team": Text(TEAM_MAX),
        "left_on": Date(),
        "manager_id": Id(),  # someone who signs in here
        "subcontractor_id": Id(),  # someone who works for a subcontractor
    }


# Someone without a sign-in, added to the staff list by the Lead (a page).
STAFF = Body.of(_staff_fields(), name="StaffSchema")

# A change to someone on the staff list (a page): the same, and whether they are active.
STAFF_UPDATE = Body.of({**_staff_fields(), "active": Bool()}, name="StaffUpdateSchema")


class CompletionSchema(Body):
    """A course someone completed; from the page, with its certificate as a file."""

    course_id = Id(required=True)
    completed_on = Date(past=True, required=True)
    certificate_ref = Text(CERTIFICATE_REF_MAX)
    certificate = Upload("Send the certificate as a file.")


COMPLETION = CompletionSchema()


class ImportCheckSchema(Body):
    """A CSV file to check before importing it (a page)."""

    kind = Choice(IMPORT_KIND_NAMES, exact=True, required=True)
    encoding = Choice(tuple(ENCODINGS), exact=True)  # "auto", when not given
    file = Upload("Send the CSV file.", required=True)


IMPORT_CHECK = ImportCheckSchema()


def _role_names() -> tuple[str, ...]:
    from app.kernel.security import ROLE_MATRIX  # here: app.kernel.security imports the models, which import little

    return tuple(ROLE_MATRIX)


class RequirementSchema(Body):
    """A course the Prevent Lead requires of an app role or of a team (a page): one of role and team."""

    course_id = Id(required=True)
    role = Choice(_role_names(), exact=True)
    team = Text(TEAM_MAX)


REQUIREMENT = RequirementSchema()


class ImportRunSchema(Body):
    """Importing a file checked before (a page)."""

    kind = Choice(IMPORT_KIND_NAMES, exact=True, required=True)
    encoding = Choice(tuple(ENCODINGS), exact=True)  # "auto", when not given
    good_rows_only = Bool()


IMPORT_RUN = ImportRunSchema()
