"""The case page's part for what officers record beside the pathway (app/cases/parallel_referrals.py,
referrer_safety.py): what the page shows (`context`), and its two forms' routes, mixed into CaseView so that a
refused form shows the case page again with what was typed. The markup is app/templates/case_safeguarding.html."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from flask_appbuilder import expose, has_access
from sqlalchemy.orm import Session

from app.cases import parallel_referrals, referrer_safety
from app.cases.parallel_referrals import summary
from app.cases.referrer_safety import RISK_WORDS
from app.kernel.page_forms import Words
from app.models import Case, SubjectType

# The forms' words for the use cases' messages, in the order of each form (app/kernel/page_forms.py).
PARALLEL_WORDS = {
    "kind": Words(required="Choose where the copy was sent"),
    "referred_on": Words(date="the date it was sent"),
    "reference": Words(),
    "note": Words(required="Enter a note: what was sent, to whom, and why"),
}
SAFETY_WORDS = {
    "risk": Words(required="Choose whether the person who raised the concern is at risk"),
    "police_informed": Words(required="Say whether the police have been told"),
    "measures": Words(required="Enter what is being done to keep them safe"),
}


def context(session: Session, actor, case: Case, today: date) -> dict[str, Any]:
    """What the officers' case page shows of it, as `beside`."""
    rows = parallel_referrals.parallel_referrals(session, actor, case.id)
    return {"beside": {
        "referrals": rows, "summary": summary, "kinds": parallel_referrals.kind_options(case),
        "mash_due": parallel_referrals.mash_copy_due(case, rows, today),
        "colleague": case.subject.subject_type == SubjectType.staff,
        "safety": referrer_safety.referrer_safety(session, actor, case.id),
        "risk_words": RISK_WORDS, "risks": [(risk.value, words) for risk, words in RISK_WORDS.items()],
        "may": parallel_referrals.may_record_beside(actor, case),
    }}


class SafeguardingRoutes:
    """CaseView's routes for the two forms (its `_decide` runs them; `read` lets in every role that works on cases,
    and the use cases answer 404 unless the user works on this one)."""

    PERMISSIONS = {"add_parallel_referral": "read", "set_referrer_safety": "read"}

    _decide: Any  # CaseView's

    @expose("/<int:pk>/parallel-referrals", methods=["POST"])
    @has_access
    def add_parallel_referral(self, pk: int):
        def call(payload):
            row = parallel_referrals.record_parallel_referral(g.user, pk, payload)
            return f"Parallel referral recorded: {summary(row)}."
        return self._decide(pk, "parallel_referral", call, "parallel-referrals", words=PARALLEL_WORDS)

    @expose("/<int:pk>/referrer-safety", methods=["POST"])
    @has_access
    def set_referrer_safety(self, pk: int):
        def call(payload):
            row = referrer_safety.set_referrer_safety(g.user, pk, payload)
            return f"Referrer safety saved: {RISK_WORDS[row.risk].lower()}."
        return self._decide(pk, "referrer_safety", call, "referrer-safety", words=SAFETY_WORDS)

