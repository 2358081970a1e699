"""Drafts: what a user typed into a form and has not sent, kept on the server for that user alone.

A draft is saved as the user types (pages.py takes the browser's saves), kept from a form posted after the session
ended or refused with errors, restored into the form when the page is shown again, and given up when the form is
sent. It expires DRAFT_HOURS after its last change: `purge_expired` (run nightly by `flask retention run`) deletes
expired drafts, and an expired one is never restored. A case form's draft names its case, and is erased with the
case's other text by retention.

Drafts are not audited, on purpose: they are the user's own unsent words, not case records. Nobody else sees them,
nothing is decided on them, and they change no case; when the form is sent, the use case it reaches audits what was
sent. An audit event per save would copy unsent text into the append-only trail (kept for years, and erased there
only by retention) and add an event every few seconds of typing.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.kernel.errors import InvalidData
from app.kernel.uow import unit_of_work
from app.models import Draft, utcnow

KEY_MAX = 120
FORM_KEY = re.compile(r"concern|case:(\d+):[a-z_]+(?::[a-z0-9_]+)?")
# Limits on what one save may hold: a form's worth of fields, and more words than any field of ours takes.
FIELDS_MAX = 200
NAME_MAX = 100
VALUE_MAX = 50_000
TOTAL_MAX = 200_000
# Fields never kept: the form's tokens (CSRF, one-time, draft) are the server's, not the user's words.
NOT_KEPT = frozenset({"csrf_token", "form_token", "draft_token"})

Fields = dict[str, str | list[str]]


def case_of(form_key: str) -> int | None:
    """The case a case form's key names ("case:42:note" is about case 42); None for the concern form."""
    match = FORM_KEY.fullmatch(form_key)
    return int(match.group(1)) if match and match.group(1) else None


def valid_key(form_key: str) -> bool:
    return len(form_key) <= KEY_MAX and FORM_KEY.fullmatch(form_key) is not None


def clean_fields(raw: Any) -> Fields:
    """The fields as sent ({name: value or [values]}), checked: strings only, within the limits; tokens dropped."""
    if not isinstance(raw, dict) or len(raw) > FIELDS_MAX:
        raise InvalidData({"fields": [f"Send the form's fields as an object of at most {FIELDS_MAX} names."]})
    fields: Fields = {}
    total = 0
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX or \
                not all(isinstance(v, str) and len(v) <= VALUE_MAX for v in values) or len(values) > FIELDS_MAX:
            raise InvalidData({"fields": [f"Each field needs a name of up to {NAME_MAX} characters and text of up "
                                          f"to {VALUE_MAX} characters."]})
        if name in NOT_KEPT:
            continue
        total += len(name) + sum(len(v) for v in values)
        fields[name] = list(values) if isinstance(value, list) else value
    if total > TOTAL_MAX:
        raise InvalidData({"fields": [f"A draft holds up to {TOTAL_MAX} characters."]})
    return fields


def _has_words(fields: Fields) -> bool:
    return any(v.strip() for value in fields.values() for v in ([value] if isinstance(value, str) else value))


def _expiry() -> datetime:
    return utcnow() - timedelta(hours=current_app.config["DRAFT_HOURS"])


def _row(session: Session, user_id: int, form_key: str) -> Draft:
    """The user's draft row for the form, made if missing (two saves at once: one makes it, the other finds it)."""
    query = sa.select(Draft).where(Draft.user_id == user_id, Draft.form_key == form_key)
    draft = session.scalar(query)
    if draft is not None:
        return draft
    draft = Draft(user_id=user_id, form_key=form_key, case_id=case_of(form_key), updated_at=utcnow())
    try:
        with session.begin_nested():
            session.add(draft)
        return draft
    except IntegrityError:
        found = session.scalar(query)
        assert found is not None  # the other save made it
        return found


def keep(user_id: int, form_key: str, instance: str, raw_fields: Any) -> bool:
    """Keeps the fields as the user's draft of the form; False (nothing changed) when this copy of the form was sent
    already (a save that arrives after the form it came from). Fields with no words in them leave nothing to restore.
    The caller has made sure the form was shown to this user (pages.py: the signed draft token)."""
    if not valid_key(form_key):
        raise InvalidData({"form": ["No such form."]})
    fields = clean_fields(raw_fields)
    with unit_of_work("draft") as session:
        draft = _row(session, user_id, form_key)
        if draft.sent_instance == instance:
            return False
        draft.fields = fields if _has_words(fields) else None
        draft.updated_at = utcnow()
    return True


def give_up(user_id: int, form_key: str, instance: str, *, sent: bool) -> None:
    """The form was sent (`sent`: its copy `instance` is remembered, so that a late save from it is not kept), or
    the user cleared it: nothing is left to restore."""
    with unit_of_work("draft") as session:
        draft = session.scalar(sa.select(Draft).where(Draft.user_id == user_id, Draft.form_key == form_key))
        if draft is None and not sent:
            return
        draft = draft or _row(session, user_id, form_key)
        draft.fields = None
        if sent:
            draft.sent_instance = instance
        draft.updated_at = utcnow()


def drafts_of(session: Session, user_id: int) -> dict[str, Draft]:
    """The user's drafts with something to restore, by form key; expired ones are left out (and purged nightly)."""
    rows = session.scalars(sa.select(Draft).where(Draft.user_id == user_id, Draft.fields.is_not(None),
                                                  Draft.updated_at >= _expiry()))
    return {row.form_key: row for row in rows}


def purge_expired() -> int:
    """Deletes every draft not changed for DRAFT_HOURS (and what is left of sent ones); how many went."""
    with unit_of_work("draft") as session:
        deleted = cast(CursorResult, session.execute(sa.delete(Draft).where(Draft.updated_at < _expiry())))
        return deleted.rowcount


def erase_for_cases(session: Session, case_ids: list[int]) -> None:
    """Retention's erasure of cases takes their drafts with them (in the erasure's transaction)."""
    session.execute(sa.delete(Draft).where(Draft.case_id.in_(case_ids)).execution_options(synchronize_session=False))
