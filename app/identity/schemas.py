"""The bodies of the writes on accounts and the second step (pages): one schema each."""
from __future__ import annotations

from app.kernel.schemas import Body, Text

REASON_MAX = 500  # for a change to someone's account, or help with their sign-in
CODE_MAX = 20


class ReasonSchema(Body):
    """The reason the audit trail needs for a change to someone's account or sign-in."""

    reason = Text(REASON_MAX, required=True)


REASON = ReasonSchema()


class CodeSchema(Body):
    """A code from the authenticator app, to confirm a new set-up."""

    code = Text(CODE_MAX, required=True)


CODE = CodeSchema()
