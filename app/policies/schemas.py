"""The bodies of every write about policies (pages and API alike): one schema each. Each field's limit is written
here and nowhere else."""
from __future__ import annotations

from app.kernel.schemas import Body, Bool, Date, Text, Whole

LABEL_MAX = 20
OWNER_MAX = 200
SUMMARY_MAX = 2_000
URL_MAX = 500
LINES_MAX = 2_000


def web_address(text: str) -> str:
    """A link to where the policy (or a piece of evidence) is read: http or https only, so that a link shown on a
    page can never run script."""
    if not text.lower().startswith(("https://", "http://")) or any(c.isspace() for c in text) or len(text) < 11:
        raise ValueError("Enter a web address starting https://, such as https://intranet.example.org/prevent.")
    return text


class ConfirmSchema(Body):
    """"I have read version X" of a policy: the version named must be its current one (409 otherwise)."""

    version = Text(LABEL_MAX, required=True)


CONFIRM = ConfirmSchema()


class VersionSchema(Body):
    """A new version of a policy (the Prevent Lead): everyone it applies to is asked to confirm it."""

    label = Text(LABEL_MAX, required=True)
    owner = Text(OWNER_MAX, required=True)
    published_on = Date(required=True)
    next_review_on = Date(required=True)
    summary = Text(SUMMARY_MAX)
    document_url = Text(URL_MAX, check=web_address, format="uri")


VERSION = VersionSchema()


class AppliesSchema(Body):
    """Whom a policy applies to (the Prevent Lead): everyone, or the roles and teams named (one a line)."""

    applies_to_all = Bool()
    roles = Text(LINES_MAX)
    teams = Text(LINES_MAX)
    version = Whole()  # the register's version of the policy read (409 if someone changed it since)


APPLIES = AppliesSchema()
