"""Others involved in a concern (optional, several): a name, their role, and their relationship to the person the
concern is about. Given with the concern (the form's rows, or `others_involved` in the API's body), shown on the case
page to officers, exported with the subject's records, and erased by retention with the case."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.kernel import audit
from app.kernel.schemas import Loaded
from app.models import Case, PersonInvolved

FIELD = "others_involved"
KEYS = ("name", "role", "relationship")


def parse(form: Loaded) -> list[dict[str, str | None]]:
    """The people in `others_involved` (a list of {"name", "role", "relationship"}; only the name is required), each
    error reported as `others_involved.<n>.<field>`. Rows left wholly blank (the page's spare rows) are skipped."""
    return [{key: person.get(key) for key in KEYS} for person in form.nested_list(FIELD)]


def add(session: Session, actor, case: Case, people: list[dict[str, Any]]) -> list[PersonInvolved]:
    """Records the people on `case`, in the caller's unit of work, each audited."""
    rows = [PersonInvolved(case_id=case.id, name=p["name"], role=p["role"], relation=p["relationship"])
            for p in people]
    session.add_all(rows)
    session.flush()
    for row in rows:
        audit.record(session, actor, "add_person_involved", row)
    return rows


def person_json(person: PersonInvolved) -> dict[str, Any]:
    return {"name": person.name, "role": person.role, "relationship": person.relation}
