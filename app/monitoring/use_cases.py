"""Monitoring alerts in (KCSIE's filtering and monitoring standards: alerts reach the safeguarding team).

- Sources: the Admin adds one (on the page, or `flask monitoring add-source NAME`) and is shown its key once; only
  the key's SHA-256 is kept. A source is revoked, never deleted. Each change audited.
- Alerts: a source sends one with its key (`receive_alert`); the same `source_id` from the same source again is the
  same alert (one row: a unique constraint, and a request that loses the race answers with the row that won).
- Triage: an officer or the Lead raises a concern from an alert (the concern quotes the alert's words, the case's
  chronology says it was raised from it, the alert points at the case) or dismisses it with a reason; once only.
- `evidence()`: the figures of a period for the evidence pack.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.cases import use_cases as cases
from app.extensions import db
from app.kernel import audit
from app.kernel.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound
from app.kernel.formats import uk_datetime, words
from app.kernel.schemas import Loaded
from app.kernel.security import can
from app.kernel.uow import unit_of_work
from app.kernel.validation import ApiPayload, is_blank
from app.models import AuditEvent, Case, utcnow
from app.monitoring.models import AlertSeverity, AlertState, MonitoringAlert, MonitoringSource
from app.monitoring.schemas import ALERT, DISMISS, RAISE_FROM_ALERT, SOURCE

KEY_HEADER = "X-Api-Key"
KEY_PREFIX = "pcm_"  # tells a key of ours apart in a secrets scanner or a config file
KEY_MAX = 200  # a longer header is no key of ours: not even hashed
ERASED = "(erased)"  # as retention writes a name it erased


class KeyRefused(DomainError):
    """An unknown or revoked key (or none): the same answer for each, so a refusal tells nothing about sources."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__(f"Send the key of an active monitoring source in the {KEY_HEADER} header.")


# --- keys ------------------------------------------------------------------------------------------------------

def new_key() -> str:
    """256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def source_for_key(session: Session, key: str | None) -> MonitoringSource | None:
    """The active source whose key this is; None for no key, an unknown one or a revoked one. The lookup is by the
    key's hash (an attacker cannot steer it), and the stored hash is compared in constant time."""
    if not key or len(key) > KEY_MAX:
        return None
    digest = key_hash(key)
    source = session.scalar(sa.select(MonitoringSource).where(MonitoringSource.key_hash == digest))
    if source is None or not hmac.compare_digest(source.key_hash, digest) or not source.active:
        return None
    return source


# --- sources (the Admin, on the page or the command line) -------------------------------------------------------

def _may_manage(actor) -> None:
    """A user with `can_manage MonitoringSource` (the Admin), or the command line (a "cli:<operator>" actor)."""
    if isinstance(actor, str):
        if not actor.startswith("cli:"):
            raise Forbidden()
    elif not can(actor, "can_manage", "MonitoringSource"):
        raise Forbidden()


def _actor_name(actor) -> str:
    return actor if isinstance(actor, str) else actor.username


def list_sources(session: Session, actor) -> list[MonitoringSource]:
    _may_manage(actor)
    return list(session.scalars(sa.select(MonitoringSource)
                                .order_by(MonitoringSource.active.desc(), MonitoringSource.name)).all())


def add_source(actor, payload: Any) -> tuple[MonitoringSource, str]:
    """A new source and its key, which is shown this once and never kept."""
    _may_manage(actor)
    key = new_key()
    try:
        with unit_of_work("monitoring source") as session:
            form = SOURCE.read(payload)
            name = form["name"]
            if name and session.scalar(sa.select(MonitoringSource.id).where(
                    sa.func.lower(MonitoringSource.name) == name.lower())) is not None:
                form.error("name", "A source with this name exists already. Choose another name.")
            form.check()
            source = MonitoringSource(name=name, key_hash=key_hash(key), key_hint=key[:8], active=True,
                                      created_by=_actor_name(actor))
            session.add(source)
            session.flush()
            audit.record(session, actor, "add_monitoring_source", source)
    except IntegrityError:  # the same name added at the same moment by someone else
        raise InvalidData({"name": ["A source with this name exists already. Choose another name."]}) from None
    return source, key


def revoke_source(actor, *, source_id: int | None = None, name: str | None = None) -> MonitoringSource:
    """Its key stops working at once; its alerts stay."""
    _may_manage(actor)
    with unit_of_work("monitoring source") as session:
        if source_id is not None:
            source = session.get(MonitoringSource, source_id)
        else:
            source = session.scalar(sa.select(MonitoringSource).where(
                sa.func.lower(MonitoringSource.name) == (name or "").strip().lower()))
        if source is None:
            raise NotFound("monitoring source")
        if not source.active:
            raise Conflict(f"{source.name} is revoked already.")
        source.active, source.revoked_at = False, utcnow()
        audit.record(session, actor, "revoke_monitoring_source", source)
        return source


# --- alerts in --------------------------------------------------------------------------------------------------

def receive_alert(key: str | None, payload: Any) -> tuple[MonitoringAlert, bool]:
    """Stores an alert from the source whose key this is: (the alert, True), or, for a `source_id` this source sent
    before, (the alert stored then, False). KeyRefused (401) before anything else; InvalidData (422) for a body
    that is not an alert, with nothing stored."""
    source = source_for_key(db.session, key)
    if source is None:
        db.session.rollback()
        raise KeyRefused()
    form = ALERT.check(payload)
    existing = _stored(db.session, source.id, form["source_id"])
    if existing is not None:
        return existing, False
    return _store(source, form)


def _stored(session: Session, source_id: int, source_alert_id: str) -> MonitoringAlert | None:
    return session.scalar(sa.select(MonitoringAlert).where(MonitoringAlert.source_id == source_id,
                                                           MonitoringAlert.source_alert_id == source_alert_id))


def _store(source: MonitoringSource, form: Loaded) -> tuple[MonitoringAlert, bool]:
    source_id, name = source.id, source.name
    try:
        with unit_of_work("monitoring alert") as session:
            alert = MonitoringAlert(
                source_id=source_id, source_alert_id=form["source_id"], occurred_at=form["occurred_at"],
                user_name=form["user"], category=form["category"], severity=AlertSeverity(form["severity"]),
                excerpt=form["excerpt"], state=AlertState.awaiting_triage, received_at=utcnow())
            session.add(alert)
            session.flush()
            audit.record(session, f"monitoring:{name}", "receive_monitoring_alert", alert)
    except IntegrityError:
        # The same alert sent twice at once: the other request stored it, and this one answers with that row.
        existing = _stored(db.session, source_id, form["source_id"])
        if existing is None:
            raise
        return existing, False
    return alert, True


# --- reading and triage (officers and the Lead) -----------------------------------------------------------------

def list_alerts(session: Session, actor, *, state: AlertState | None = None, page: int = 0,
                page_size: int = 25) -> tuple[int, list[MonitoringAlert]]:
    """Alerts, newest first; awaiting triage only with `state`."""
    if not can(actor, "can_read", "MonitoringAlert"):
        raise Forbidden()
    where = [MonitoringAlert.state == state] if state is not None else []
    count = session.scalar(sa.select(sa.func.count()).select_from(MonitoringAlert).where(*where)) or 0
    rows = session.scalars(
        sa.select(MonitoringAlert).where(*where).options(selectinload(MonitoringAlert.source))
        .order_by(MonitoringAlert.received_at.desc(), MonitoringAlert.id.desc())
        .offset(page * page_size).limit(page_size)).all()
    return count, list(rows)


def get_alert(session: Session, actor, alert_id: int) -> MonitoringAlert:
    if not can(actor, "can_read", "MonitoringAlert"):
        raise Forbidden()
    alert = session.get(MonitoringAlert, alert_id)
    if alert is None:
        raise NotFound("alert")
    return alert


def _for_triage(session: Session, actor, alert_id: int) -> MonitoringAlert:
    if not can(actor, "can_triage", "MonitoringAlert"):
        raise Forbidden()
    alert = session.get(MonitoringAlert, alert_id)
    if alert is None:
        raise NotFound("alert")
    if alert.state != AlertState.awaiting_triage:
        raise _triaged_already(alert)
    return alert


def _triaged_already(alert: MonitoringAlert) -> Conflict:
    done = "a concern was raised from it" if alert.state == AlertState.concern_raised else "it was dismissed"
    return Conflict(f"This alert was triaged already: {done}. Nothing was changed.", alert.state.value)


def dismiss(actor, alert_id: int, payload: Any) -> MonitoringAlert:
    """No concern needed: why, in the officer's words. Two officers at once: one wins, the other gets 409."""
    with unit_of_work("alert") as session:
        alert = _for_triage(session, actor, alert_id)
        reason = DISMISS.check(payload)["reason"]
        alert.state, alert.dismiss_reason = AlertState.dismissed, reason
        alert.triaged_by_id, alert.triaged_at = actor.id, utcnow()
        audit.record(session, actor, "dismiss_monitoring_alert", alert, reason=reason)
        return alert


def quoted(alert: MonitoringAlert, note: str | None) -> str:
    """The concern's description: the alert's own words, quoted, and what the officer adds."""
    text = (f"Raised from a monitoring alert ({alert.source.name}, alert {alert.source_alert_id}): "
            f"{words(alert.severity.value)} severity, category \u201c{alert.category}\u201d, "
            f"user \u201c{alert.user_name}\u201d, {uk_datetime(alert.occurred_at)} UK time.\n"
            f"The alert's words: \u201c{alert.excerpt}\u201d")
    return f"{text}\n\n{note}" if note else text


def raise_concern_from(actor, alert_id: int, payload: Any, *, naive_zone: tzinfo = UTC) -> Case:
    """A concern from an alert, about the person the officer names (one already recorded, `subject_id`, or a new one,
    `subject`): raised through the cases' own use case, the alert linked to the case in the same transaction."""
    alert = _for_triage(db.session, actor, alert_id)
    form = RAISE_FROM_ALERT.check(payload, zone=naive_zone)
    concern: dict[str, Any] = {
        "description": quoted(alert, form["note"]), "occurred_at": alert.occurred_at.isoformat(),
        "immediate_danger": False, "indicator_ids": []}
    for name in ("subject_id", "subject"):
        if name in payload and not (isinstance(payload, ApiPayload) and payload[name] is None):
            concern[name] = payload[name]
    if is_blank(concern.get("subject_id")):
        concern.pop("subject_id", None)
    summary = f"Raised from monitoring alert {alert.source.name} {alert.source_alert_id}"

    def link(session: Session, case: Case) -> None:
        alert.state, alert.case_id = AlertState.concern_raised, case.id
        alert.triaged_by_id, alert.triaged_at = actor.id, utcnow()
        audit.record(session, actor, "raise_concern_from_monitoring_alert", alert, case_id=case.id)
        cases.add_entry(session, case, actor, "monitoring_alert", summary,
                        data={"alert_id": alert.id, "severity": alert.severity.value, "category": alert.category})
        try:
            session.flush()
        except StaleDataError:  # another officer triaged it meanwhile: no concern is raised
            raise Conflict("This alert was triaged by someone else meanwhile. Nothing was changed.") from None

    return cases.raise_concern(actor, ApiPayload(concern) if isinstance(payload, ApiPayload) else concern,
                               naive_zone=naive_zone, raised_from=link)


# --- retention ---------------------------------------------------------------------------------------------------

def alert_events_clause(session: Session, case_ids: list[int]) -> sa.ColumnElement[bool]:
    """The audit events of the alerts concerns on these cases were raised from (their receipt holds the alert's
    words): retention erases them with the cases' own."""
    ids = [str(i) for i in session.scalars(sa.select(MonitoringAlert.id).where(MonitoringAlert.case_id.in_(case_ids)))]
    return sa.and_(AuditEvent.entity_type == MonitoringAlert.__name__, AuditEvent.entity_id.in_(ids))


def erase_for_cases(session: Session, case_ids: list[int]) -> list[Any]:
    """Retention: the user and the words of the alerts concerns on these cases were raised from go with the cases;
    the rows stay, as the audit trail names them."""
    erased: list[Any] = []
    for alert in session.scalars(sa.select(MonitoringAlert).where(MonitoringAlert.case_id.in_(case_ids))):
        alert.user_name, alert.excerpt = ERASED, ""
        erased.append(alert)
    return erased


# --- the evidence pack ------------------------------------------------------------------------------------------

def evidence(session: Session, actor, start: date, end: date) -> dict[str, Any]:
    """Monitoring for the evidence pack, for the days `start` to `end` (both included, UTC): the alerts received by
    severity, how those alerts stand now (a concern raised, dismissed, awaiting triage), and per source how many
    each sent. Figures and the sources' names only: no user, excerpt or case. For the Prevent Lead and those who read
    the Board report's figures (Governance); Forbidden for others.

    {"from": "2026-09-01", "to": "2026-11-30", "received": 7, "by_severity": {"low": 2, "medium": 3, "high": 2},
     "concern_raised": 1, "dismissed": 5, "awaiting_triage": 1,
     "sources": [{"name": "Web filter", "active": True, "received": 7}]}"""
    if not (can(actor, "can_read", "MonitoringAlert") or can(actor, "can_read", "BoardReport")):
        raise Forbidden()
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    received = (MonitoringAlert.received_at >= since, MonitoringAlert.received_at < until)
    by_severity = dict(session.execute(sa.select(MonitoringAlert.severity, sa.func.count()).where(*received)
                                       .group_by(MonitoringAlert.severity)).tuples().all())
    by_state = dict(session.execute(sa.select(MonitoringAlert.state, sa.func.count()).where(*received)
                                    .group_by(MonitoringAlert.state)).tuples().all())
    by_source = session.execute(
        sa.select(MonitoringSource.name, MonitoringSource.active, sa.func.count(MonitoringAlert.id))
        .outerjoin(MonitoringAlert, sa.and_(MonitoringAlert.source_id == MonitoringSource.id, *received))
        .group_by(MonitoringSource.id, MonitoringSource.name, MonitoringSource.active)
        .order_by(MonitoringSource.name)).all()
    return {
        "from": start.isoformat(), "to": end.isoformat(),
        "received": sum(by_severity.values()),
        "by_severity": {s.value: by_severity.get(s, 0) for s in AlertSeverity},
        "concern_raised": by_state.get(AlertState.concern_raised, 0),
        "dismissed": by_state.get(AlertState.dismissed, 0),
        "awaiting_triage": by_state.get(AlertState.awaiting_triage, 0),
        "sources": [{"name": name, "active": active, "received": count} for name, active, count in by_source],
    }
