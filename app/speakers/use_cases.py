"""External speakers and events (the Prevent duty guidance; the provider's policy on external speakers).

Any employee asks for approval before a speaker comes or an event is held; they see only their own requests. An
officer or the Prevent Lead checks the request (what was checked, the risk, any conditions such as a chair present
or a recording) and approves it, approves it with conditions, or declines it, with a reason: once, and never on a
request of their own. The register (officers and the Lead) is searchable by speaker, and a request for a speaker
declined before carries a warning with the earlier decisions. Every request and decision is audited; the person who
asked hears of the decision by email (no names in it), and the officers and the Lead hear of each new request.

`evidence()` is the one function the evidence pack calls: figures and short rows for a period, no requester names.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app.kernel import audit, files, formats
from app.kernel.errors import Conflict, Forbidden, NotFound
from app.kernel.schemas import Loaded
from app.kernel.security import can, case_workers, speaker_request_clause
from app.kernel.uow import unit_of_work
from app.models import EventFormat, SpeakerDecision, SpeakerRequest, SpeakerRisk, StoredFile, utcnow
from app.notifications import outbox
from app.notifications.notify import public_url
from app.speakers.models import speaker_key
from app.speakers.schemas import DECISION, DECISION_LABELS, REQUEST, SPEAKER_MAX

OWN_REQUEST = "You asked for this speaker or event yourself: another officer or the Prevent Lead decides."
FOOTER = "\n\nThis email deliberately carries no names. Sign in to read the request."


# --- asking ---------------------------------------------------------------------------------------------------

def request_approval(actor, payload: Any) -> SpeakerRequest:
    """Any employee asks for approval of a speaker or an event: audited; the officers and the Lead hear of it."""
    if not can(actor, "can_request", "SpeakerRequest"):
        raise Forbidden()
    with unit_of_work("request") as session:
        form = REQUEST.read(payload)
        materials_file = _materials_file(actor, form)
        form.check()
        if materials_file is not None:
            session.add(materials_file)
            session.flush()
            audit.record(session, actor, "upload_speaker_materials", materials_file)
        row = SpeakerRequest(speaker=form["speaker"], speaker_key=speaker_key(form["speaker"]), topic=form["topic"],
                             event_date=form["event_date"], audience=form["audience"],
                             format=EventFormat(form["format"]), materials=form["materials"],
                             materials_file=materials_file, requested_by_id=actor.id, requested_at=utcnow())
        session.add(row)
        session.flush()
        audit.record(session, actor, "request_speaker", row)
        _tell_deciders(session, row)
        return row


def _materials_file(actor, form: Loaded) -> StoredFile | None:
    """The materials uploaded with the page's form, if any, kept once their content is checked (a PDF, an image or
    a Word document, as for any upload); a refused file is an error on `form`."""
    upload = form["materials_file"]
    if upload is None:
        return None
    data = upload.stream.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)  # one byte over the limit: refused
    try:
        return files.stored_file(upload.filename, data, actor.id)
    except ValueError as exc:
        form.error("materials_file", str(exc))
        return None


def materials_file(session: Session, actor, request_id: int) -> StoredFile:
    """The materials file of a request this user may see (404 otherwise, or when none was sent)."""
    row = get_request(session, actor, request_id)
    if row.materials_file is None:
        raise NotFound("file")
    return row.materials_file


def _link(row: SpeakerRequest) -> str:
    return public_url(f"/speakers/{row.id}")


def _tell_deciders(session: Session, row: SpeakerRequest) -> None:
    for person in case_workers(session):
        if person.id != row.requested_by_id and can(person, "can_decide", "SpeakerRequest"):
            outbox.queue(session, kind="speaker_request", recipient=person,
                         subject=f"External speaker request {row.id} waits for a decision",
                         body=(f"Someone asked for approval of an external speaker or event on "
                               f"{formats.uk_date(row.event_date)}. Check it and decide: {_link(row)}" + FOOTER))


# --- reading --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestFilters:
    speaker: str | None = None  # part of the speaker's name, in any case
    decided: bool | None = None  # True: decided ones; False: those waiting for a decision
    own: bool = False  # only the ones the user asked for


def _visible(actor) -> sa.ColumnElement[bool]:
    if not can(actor, "can_read", "SpeakerRequest"):
        raise Forbidden()
    return speaker_request_clause(actor)


def list_requests(session: Session, actor, filters: RequestFilters = RequestFilters(), *, page: int = 0,
                  page_size: int = 25) -> tuple[int, Sequence[SpeakerRequest]]:
    """The requests this user may see (their own; every one for officers and the Lead): those waiting first, then
    by event date, latest first."""
    where = [_visible(actor)]
    if filters.speaker and filters.speaker.strip():
        wanted = speaker_key(filters.speaker[:SPEAKER_MAX])
        where.append(SpeakerRequest.speaker_key.contains(wanted, autoescape=True))
    if filters.own:
        where.append(SpeakerRequest.requested_by_id == actor.id)
    if filters.decided is not None:
        where.append(SpeakerRequest.decision.is_not(None) if filters.decided else SpeakerRequest.decision.is_(None))
    count = session.scalar(sa.select(sa.func.count()).select_from(SpeakerRequest).where(*where)) or 0
    rows = session.scalars(
        sa.select(SpeakerRequest).where(*where)
        .options(selectinload(SpeakerRequest.requested_by), selectinload(SpeakerRequest.decided_by))
        .order_by(SpeakerRequest.decision.is_not(None), SpeakerRequest.event_date.desc(), SpeakerRequest.id.desc())
        .offset(page * page_size).limit(page_size)).all()
    return count, rows


def get_request(session: Session, actor, request_id: int) -> SpeakerRequest:
    """One request: 404 for one this user may not see (another's, for staff)."""
    row = session.scalar(sa.select(SpeakerRequest).where(SpeakerRequest.id == request_id, _visible(actor)))
    if row is None:
        raise NotFound("request")
    return row


def may_see_checks(actor) -> bool:
    """Whether the user reads what was checked, the risk and earlier decisions on the speaker (officers and the
    Lead); the person who asked reads the decision, its reason and any conditions."""
    return can(actor, "can_read_all", "SpeakerRequest")


def declined_before(session: Session, actor, row: SpeakerRequest) -> list[SpeakerRequest]:
    """The same speaker's other requests that were declined, latest decision first (officers and the Lead only:
    for anyone else, none)."""
    if not may_see_checks(actor):
        return []
    return list(session.scalars(
        sa.select(SpeakerRequest).where(SpeakerRequest.speaker_key == row.speaker_key, SpeakerRequest.id != row.id,
                                        SpeakerRequest.decision == SpeakerDecision.declined)
        .order_by(SpeakerRequest.decided_at.desc(), SpeakerRequest.id.desc())))


def speakers_declined(session: Session, actor, rows: Sequence[SpeakerRequest]) -> dict[int, int]:
    """For each of `rows`, how many other requests for the same speaker were declined (the register's warnings)."""
    if not may_see_checks(actor) or not rows:
        return {}
    keys = {row.speaker_key for row in rows}
    declined = session.execute(
        sa.select(SpeakerRequest.id, SpeakerRequest.speaker_key)
        .where(SpeakerRequest.speaker_key.in_(keys), SpeakerRequest.decision == SpeakerDecision.declined)).all()
    by_key = Counter(key for _, key in declined)
    ids = {request_id for request_id, _ in declined}
    return {row.id: by_key[row.speaker_key] - (1 if row.id in ids else 0) for row in rows
            if by_key[row.speaker_key] - (1 if row.id in ids else 0) > 0}


def why_not_decide(actor, row: SpeakerRequest) -> str | None:
    """Why this user may not decide this request now, in words (None: they may)."""
    if not can(actor, "can_decide", "SpeakerRequest"):
        return "Your role may not do this."
    if row.requested_by_id == actor.id:
        return OWN_REQUEST
    if row.decision is not None:
        return _decided_already(row.decision)
    return None


def _decided_already(decision: SpeakerDecision) -> str:
    return f"This request was decided already: {DECISION_LABELS[decision].lower()}."


# --- deciding -------------------------------------------------------------------------------------------------

def decide(actor, request_id: int, payload: Any) -> SpeakerRequest:
    """Records the check and the decision, once: 403 for a role that may not decide and on one's own request, 404
    for no such request, 409 once decided (two deciders at once: the second waits, then finds it decided), 422 for
    a missing reason, or conditions missing from (or sent without) an approval with conditions."""
    if not can(actor, "can_decide", "SpeakerRequest"):
        raise Forbidden()
    with unit_of_work("request") as session:
        row = session.get(SpeakerRequest, request_id, with_for_update=True)
        if row is None:
            raise NotFound("request")
        if row.requested_by_id == actor.id:
            raise Forbidden(OWN_REQUEST)
        if row.decision is not None:
            raise Conflict(_decided_already(row.decision), row.decision.value)
        form = DECISION.read(payload)
        with_conditions = form["decision"] == SpeakerDecision.approved_with_conditions
        if with_conditions:
            form.require("conditions")
        elif form["conditions"] and "decision" not in form.errors:
            form.error("conditions", "Conditions come with an approval with conditions: choose that, or leave the "
                                     "conditions empty.")
        form.check()
        row.decision = decision = SpeakerDecision(form["decision"])
        row.reason, row.conditions, row.checks = form["reason"], form["conditions"], form["checks"]
        row.risk = SpeakerRisk(form["risk"]) if form["risk"] else None
        row.decided_by_id, row.decided_at = actor.id, utcnow()
        audit.record(session, actor, "decide_speaker_request", row, reason=row.reason)
        _tell_requester(session, row, decision)
        return row


def _tell_requester(session: Session, row: SpeakerRequest, decision: SpeakerDecision) -> None:
    said = DECISION_LABELS[decision].lower()
    outbox.queue(session, kind="speaker_decision", recipient=row.requested_by,
                 subject=f"Your external speaker request {row.id}: {said}",
                 body=(f"Your request for an external speaker or event on {formats.uk_date(row.event_date)} was "
                       f"{said}. Read the reason" + (" and the conditions" if row.conditions else "") +
                       f": {_link(row)}" + FOOTER))


# --- the evidence pack ----------------------------------------------------------------------------------------

def evidence(session: Session, actor, start: date, end: date) -> dict[str, Any]:
    """External speakers and events for the evidence pack, for the decisions made from `start` to `end` (both
    included, UTC days as the Board report counts them): `decided` (how many), `by_decision` (each decision's
    count, 0 included), `requested` (asked in the period), `waiting` (asked in the period, not decided yet), and
    `rows`, one per decision, by decision date: {"decided_on", "event_date", "speaker", "topic", "format",
    "decision", "conditions"}. Speakers are named (public figures, as on the register); the people who asked and
    decided are not. For officers and the Lead, and
    for readers of the Board's figures (Governance); 403 for anyone else."""
    if not (can(actor, "can_read_all", "SpeakerRequest") or can(actor, "can_read", "BoardReport")):
        raise Forbidden()
    low = datetime.combine(start, time.min, tzinfo=UTC)  # days in UTC, as the Board report counts them
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = [row for row in session.scalars(
        sa.select(SpeakerRequest).where(SpeakerRequest.decision.is_not(None),
                                        SpeakerRequest.decided_at >= low, SpeakerRequest.decided_at < high)
        .order_by(SpeakerRequest.decided_at, SpeakerRequest.id))]
    asked = session.execute(
        sa.select(SpeakerRequest.decision)
        .where(SpeakerRequest.requested_at >= low, SpeakerRequest.requested_at < high)).scalars().all()
    counts = Counter(row.decision for row in rows)
    return {
        "from": start.isoformat(), "to": end.isoformat(),
        "decided": len(rows),
        "by_decision": {decision.value: counts[decision] for decision in SpeakerDecision},
        "requested": len(asked),
        "waiting": sum(1 for decision in asked if decision is None),
        "rows": [{"decided_on": formats.iso(row.decided_at.date()) if row.decided_at else None,
                  "event_date": formats.iso(row.event_date),
                  "speaker": row.speaker, "topic": row.topic, "format": row.format.value,
                  "decision": row.decision.value if row.decision else None, "conditions": row.conditions}
                 for row in rows],
    }
