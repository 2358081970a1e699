"""What the concern form and the case page need beyond reading a form: the files and the rows of others involved
posted with a concern, and, after a decision on the case page, the page again at the part where it was made (an
anchor) with a confirmation that says what happened ("Referred to the police. The case is now Referred to police.").

The confirmation is kept in the session for the one page that follows the redirect, and shown there beside the
form it answers, rather than at the top of a page that opens further down."""
from __future__ import annotations

import re
from typing import Any

from flask import current_app, request, session, url_for

from app.cases.attachments import MAX_FILES_AT_RAISING, Upload
from app.cases.involved import FIELD, KEYS
from app.kernel import files, formats
from app.models import Case, CaseAction, CaseEntry, CaseStatus

CONFIRMATION = "case_confirmation"
PEOPLE_ROWS = 3  # rows the concern form offers for others involved; more come back as the form is sent again
_PERSON_KEY = re.compile(r"^others\.(\d{1,2})\.(name|role|relationship)$")

# What each workflow event did, in the words of the confirmation.
EVENT_DONE = {
    "acknowledge": "Acknowledged",
    "close": "Closed",
    "refer_to_police": "Referred to the police",
    "record_gateway_outcome": "The police gateway outcome is recorded",
    "close_police_led": "Police-led case management is closed",
    "schedule_panel": "The Channel panel is scheduled",
    "screen_out": "Screened out of Channel",
    "record_panel_decision": "The Channel panel's decision is recorded",
    "exit_support": "Support has ended",
    "record_review": "The post-support review is recorded",
    "reopen": "Reopened",
}


# --- the concern form ------------------------------------------------------------------------------------------

def people_rows(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The posted rows of others involved (`others.<n>.name`, `.role`, `.relationship`), taken out of `payload`,
    in order; the use case skips the rows left blank."""
    rows: dict[int, dict[str, str]] = {}
    for key in [k for k in payload if k.startswith("others.")]:
        value = payload.pop(key)
        match = _PERSON_KEY.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [{name: rows[n].get(name, "") for name in KEYS} for n in sorted(rows)]


def blank_people_rows(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The rows the form shows: those sent (after a refusal), then blank ones up to PEOPLE_ROWS, and one more."""
    sent = [row for row in payload.get(FIELD) or [] if isinstance(row, dict)]
    blank = dict.fromkeys(KEYS, "")
    return sent + [dict(blank) for _ in range(max(PEOPLE_ROWS - len(sent), 1))]


def uploads(name: str) -> list[Upload]:
    """The files posted as `name` (a browser sends an empty part when none was chosen)."""
    return [(upload.filename or "", upload.read()) for upload in request.files.getlist(name) if upload.filename]


def upload_limits() -> dict[str, Any]:
    """What the forms say about files: the kinds, the largest, how many with a concern."""
    kinds = [kind for kind in files.allowed_types() if kind in ("pdf", "png", "jpeg", "docx")]
    return {"kinds": ", ".join(k.upper() for k in kinds), "max_mb": current_app.config["UPLOAD_MAX_BYTES"] / 2**20,
            "max_files": MAX_FILES_AT_RAISING,
            "accept": ",".join(ending for kind in kinds for ending in files.FILE_TYPES[kind][1])}


# --- after a decision -----------------------------------------------------------------------------------------

def status_words(status: CaseStatus) -> str:
    return formats.words(status.value).capitalize()


def event_done(case: Case, event: str) -> str:
    done = EVENT_DONE.get(event, "Recorded")
    if case.closure_outcome is not None:
        return f"{done}. The case is now Closed ({formats.words(case.closure_outcome.value)})."
    return f"{done}. The case is now {status_words(case.status)}."


def action_added(action: CaseAction) -> str:
    return (f"Action added for {action.owner.first_name} {action.owner.last_name}, due "
            f"{formats.uk_date(action.due_date)}.")


def action_updated(action: CaseAction) -> str:
    return "Action done." if action.status.value == "done" else "Action cancelled."


def note_added(entry: CaseEntry) -> str:
    return f"Added to the chronology: {entry.summary}."


def back_to_case(case_id: int, anchor: str) -> str:
    return url_for("CaseView.show", pk=case_id, _anchor=anchor)


def confirm(case_id: int, anchor: str, message: str) -> None:
    session[CONFIRMATION] = {"case": case_id, "anchor": anchor, "message": message}


def confirmation(case_id: int) -> dict[str, Any] | None:
    """The confirmation waiting for this case's page, taken (shown once)."""
    done = session.get(CONFIRMATION)
    if not isinstance(done, dict) or done.get("case") != case_id:
        return None
    session.pop(CONFIRMATION)
    return done
