"""Others involved in a concern (optional, several): a name, their role, and their relationship to the person the
concern is about. Given with the concern (the form's rows, or `others_involved` in the API's body), shown on the case
page to officers, exported with the subject's records, and erased by retention with the case."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.kernel import audit
from app.cases.schemas import PEOPLE_INVOLVED_MAX, PERSON_INVOLVED
from app.kernel.schemas import Loaded
from app.kernel.validation import ApiPayload, is_blank
from app.models import Case, PersonInvolved

FIELD = "others_involved"
KEYS = ("name", "role", "relationship")


def parse(form: Loaded) -> list[dict[str, str | None]]:
    """The people in `others_involved` (a list of {"name", "role", "relationship"}; only the name is required), each
    error reported as `others_involved.<n>.<field>`. Rows left wholly blank (the page's spare rows) are skipped."""
    raw = form.raw(FIELD)
    if raw is None:
        return []
    if not isinstance(raw, list):
        form.error(FIELD, "Send a list of people, each with a name, role and relationship.")
        return []
    if len(raw) > PEOPLE_INVOLVED_MAX:
        form.error(FIELD, f"Name at most {PEOPLE_INVOLVED_MAX} people here; add others in the description.")
        return []
    people = []
    for n, row in enumerate(raw):
        if not isinstance(row, dict):
            form.error(f"{FIELD}.{n}", "Send each person as an object with a name, role and relationship.")
            continue
        if not form.strict and all(is_blank(row.get(key)) for key in KEYS):
            continue
        child = PERSON_INVOLVED.read(ApiPayload(row) if form.strict else row)
        form.children[f"{FIELD}.{n}"] = child
        people.append({key: child.get(key) for key in KEYS})
    return people


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
