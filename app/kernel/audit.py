"""The audit trail: append-only events in one HMAC chain, written in the same transaction as the change they describe.

Services call `record()` with intent (who, what, why). At commit the pending records become `AuditEvent` rows chained
to the previous head, in the same transaction, so that either the change and its audit both land or neither does.
A guard refuses to commit a change to an audited model (one with `__audited__ = True`) that has no audit record.

Tampering is found by `verify()`: every event's HMAC covers its content, its sequence number and its predecessor's
hash, under a key kept outside the database, and the last head the app wrote is kept outside the database too
(AUDIT_HEAD_PATH), so that editing, deleting, reordering, re-sealing without the key and cutting off the tail all show.

Retention erases personal data from the trail too. An event's `reason` and `changes` may hold it (a name, the words
of a concern), so erasure sets both to NULL (the one UPDATE the database allows, see migration 0008), and the
erasure's own event, its tombstone, carries the seal of what remains of each erased event. The erased event keeps its
hash, so the chain still links; `verify()` accepts its emptied content only with a matching seal in a tombstone,
which nobody can forge without the key. Emptying an event any other way is found like any other edit.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.kernel import record_seals
from app.models import AccessLogEntry, AuditEvent, utcnow

GENESIS = "0" * 64


_PENDING = "audit_pending"


_TOUCHED = "audit_touched"


_INSERTED = "audit_inserted"  # entities inserted by this transaction: their audit shows every field


_HEAD = "audit_head"


# Any constants will do: they name the locks that serialise appends to each chain on PostgreSQL.
_CHAIN_LOCK_ID = 0x50524556


_ACCESS_LOCK_ID = 0x50524557


AUDIT_CHAIN, ACCESS_CHAIN = "audit", "access_log"  # the audit events' chain; the access log's own


ERASURE = "retention_erasure"  # the action of an erasure's tombstone event


ERASED_EVENTS = "erased_audit_events"  # in a tombstone's changes: {seq: seal of the erased event's remains}


# Columns whose value never goes in the trail (a password hash): only that they changed.
SECRET_COLUMNS = frozenset({"password"})


class AuditMissing(RuntimeError):
    """A change to an audited record reached commit without an audit record."""


class ActorRequired(ValueError):
    """Every audited change has an actor."""


@dataclass
class _Pending:
    actor_id: int | None
    actor: str
    action: str
    entity: Any
    reason: str | None
    from_status: str | None
    to_status: str | None
    case_id: int | None
    changes: dict = field(default_factory=dict)
    covers: list = field(default_factory=list)  # other entities whose change this one event records


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):  # a stored file's content: its size and sha256 column identify it in the trail
        return f"{len(value)} bytes"
    return value


def field_changes(entity: Any, created: bool) -> dict[str, dict[str, Any]]:
    """Old and new value of every column changed on `entity` since it was loaded (all columns when created)."""
    state = sa.inspect(entity)
    changes: dict[str, dict[str, Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key == "version":
            continue
        history = state.attrs[attr.key].history
        if attr.key in SECRET_COLUMNS:
            if history.has_changes():
                changes[attr.key] = {"old": None, "new": "changed"}
            continue
        if created or state.pending or state.transient:
            value = getattr(entity, attr.key)
            if value is not None:
                changes[attr.key] = {"old": None, "new": _jsonable(value)}
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[attr.key] = {"old": _jsonable(old), "new": _jsonable(new)}
    return changes


def record(session: Session, actor, action: str, entity: Any, *, reason: str | None = None,
           from_status: str | None = None, to_status: str | None = None, case_id: int | None = None,
           extra_changes: dict | None = None, covers: Sequence[Any] = ()) -> None:
    """Registers an audit event for `entity`, written at commit in the same transaction.

    `actor` is a user, or a string naming a system process (e.g. "system:retention"). Call it after changing the
    entity and before the next flush, so that the field-level changes are captured. The event seals `entity` and
    the records in `covers` as the transaction leaves them.
    """
    if actor is None or (isinstance(actor, str) and not actor.strip()):
        raise ActorRequired("An audited change needs an actor.")
    changes = field_changes(entity, created=id(entity) in session.info.get(_INSERTED, set()))
    if extra_changes:
        changes.update({k: {"old": _jsonable(v[0]), "new": _jsonable(v[1])} for k, v in extra_changes.items()})
    session.info.setdefault(_PENDING, []).append(_Pending(
        actor_id=None if isinstance(actor, str) else actor.id,
        actor=actor if isinstance(actor, str) else actor.username,
        action=action, entity=entity, reason=reason, from_status=from_status, to_status=to_status,
        case_id=case_id, changes=changes, covers=list(covers),
    ))


def require(session: Session, entity: Any) -> None:
    """Marks a change to `entity` (of a model not `__audited__` as a whole) as one that needs an audit event in this
    transaction: the commit is refused without one, as for audited models."""
    session.info.setdefault(_TOUCHED, {})[id(entity)] = entity


def erase_events(session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """Empties the `reason` and `changes` of `events` and returns, per seq, the seal of what remains of each: the
    tombstone (`record_erasure`) carries them, so that `verify()` can still check every field the event keeps."""
    key = _audit_key()
    seals: dict[str, str] = {}
    for ev in events:
        remains = AuditEvent(**{attr.key: getattr(ev, attr.key) for attr in sa.inspect(AuditEvent).column_attrs})
        remains.reason, remains.changes = None, None
        seals[str(ev.seq)] = _seal(key, remains)
    seqs = [ev.seq for ev in events]
    for start in range(0, len(seqs), 500):
        session.execute(sa.update(AuditEvent).where(AuditEvent.seq.in_(seqs[start:start + 500]))
                        .values(reason=None, changes=sa.null()).execution_options(synchronize_session=False))
    for ev in events:
        session.expire(ev)
    return seals


def record_erasure(session: Session, actor, entity: Any, *, details: dict, erased_events: dict[str, str],
                   covers: list) -> None:
    """The tombstone of an erasure: one event on `entity` with `details` (references, dates, the rule; never
    content) and the seals from `erase_events`, standing for the change to every entity in `covers`. No field values
    are captured: they were the personal data being erased."""
    if actor is None or (isinstance(actor, str) and not actor.strip()):
        raise ActorRequired("An audited change needs an actor.")
    changes = {k: {"old": None, "new": _jsonable(v)} for k, v in details.items()}
    changes[ERASED_EVENTS] = {"old": None, "new": erased_events}
    session.info.setdefault(_PENDING, []).append(_Pending(
        actor_id=None if isinstance(actor, str) else actor.id,
        actor=actor if isinstance(actor, str) else actor.username,
        action=ERASURE, entity=entity, reason=None, from_status=None, to_status=None, case_id=None,
        changes=changes, covers=list(covers),
    ))


def _entity_id(entity: Any) -> str | None:
    identity = sa.inspect(entity).identity
    return None if identity is None else "/".join(str(part) for part in identity)


def _signed_content(ev: AuditEvent) -> bytes:
    content = {
        "seq": ev.seq, "at": ev.at.isoformat(), "actor_id": ev.actor_id, "actor": ev.actor, "action": ev.action,
        "entity_type": ev.entity_type, "entity_id": ev.entity_id, "case_id": ev.case_id,
        "from_status": ev.from_status, "to_status": ev.to_status, "reason": ev.reason, "changes": ev.changes,
        "prev_hash": ev.prev_hash,
    }
    if ev.seals is not None:  # events from before records were sealed are signed without it
        content["seals"] = ev.seals
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _seal(key: str, ev: AuditEvent) -> str:
    return hmac.new(key.encode(), _signed_content(ev), hashlib.sha256).hexdigest()


def _audit_key() -> str:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not set: the audit chain cannot be written or verified without it.")
    return key


def _write_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # gives new entities their ids, and on SQLite takes the write lock before the head is read
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK_ID)))
    head = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
    keep_anchor = not _chain_holds_anchor(session, seq, AUDIT_CHAIN)
    key = _audit_key()
    now = utcnow()
    audited = session.info.setdefault("audit_done", set())
    _cover_by_case(pending, session.info.get(_TOUCHED, {}))
    seals = record_seals.seal_records(session, key, [e for item in pending for e in (item.entity, *item.covers)])
    for item in pending:
        seq += 1
        ev = AuditEvent(
            seq=seq, at=now, actor_id=item.actor_id, actor=item.actor, action=item.action,
            entity_type=type(item.entity).__name__, entity_id=_entity_id(item.entity),
            case_id=item.case_id if item.case_id is not None else getattr(item.entity, "audit_case_id", None),
            from_status=item.from_status, to_status=item.to_status, reason=item.reason, changes=item.changes,
            prev_hash=prev_hash, seals=_seals_of(item, seals),
        )
        ev.hash = _seal(key, ev)
        prev_hash = ev.hash
        session.add(ev)
        audited.add(id(item.entity))
        audited.update(id(entity) for entity in item.covers)
    session.flush()
    if keep_anchor:
        # The chain no longer holds the head recorded outside the database (its tail was cut off or rewritten):
        # keep that head, so that verify() goes on reporting it, instead of moving it onto the altered chain.
        current_app.logger.error("Audit chain does not hold its recorded head: head file left unchanged.")
    else:
        session.info.setdefault(_HEAD, {})[AUDIT_CHAIN] = {"seq": seq, "hash": prev_hash}


def _cover_by_case(pending: list[_Pending], touched: dict[int, Any]) -> None:
    """An audited record changed with no event of its own (a chronology entry) is covered, and sealed, by the event
    of the change on its case in the same transaction; with none, the guard refuses the commit."""
    named = {id(e) for item in pending for e in (item.entity, *item.covers)}
    by_case: dict[int | None, _Pending] = {}
    for item in pending:
        case_id = item.case_id if item.case_id is not None else getattr(item.entity, "audit_case_id", None)
        by_case.setdefault(case_id, item)
    for key, obj in touched.items():
        case_id = getattr(obj, "audit_case_id", None)
        if key not in named and case_id is not None and case_id in by_case:
            by_case[case_id].covers.append(obj)


def _seals_of(item: _Pending, seals: dict[str, str]) -> dict[str, str] | None:
    mine = {}
    for entity in (item.entity, *item.covers):
        identity = sa.inspect(entity).identity
        record = identity and record_seals.record_key(sa.inspect(entity).mapper, identity)
        if record in seals:
            mine[record] = seals[record]
    return mine or None


def _chain_model(chain: str):
    return AuditEvent if chain == AUDIT_CHAIN else AccessLogEntry


def _chain_holds_anchor(session: Session, head_seq: int, chain: str) -> bool:
    """Whether the chain, as this transaction sees it under the chain lock, still has the recorded head in it."""
    try:
        anchor = read_anchor(chain)
    except (OSError, ValueError):
        return True  # an unreadable head file must not refuse the change: writing it fails too, and is reported
    if anchor is None:
        return True
    if anchor["seq"] > head_seq:
        return False
    model = _chain_model(chain)
    return session.scalar(sa.select(model.hash).where(model.seq == anchor["seq"])) == anchor["hash"]


def _access_content(entry: AccessLogEntry) -> bytes:
    content = {"seq": entry.seq, "at": entry.at.astimezone(UTC).isoformat(), "user_id": entry.user_id,
               "case_id": entry.case_id, "channel": entry.channel, "what": entry.what,
               "outside_own_work": bool(entry.outside_own_work), "prev_hash": entry.prev_hash}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _access_seal(key: str, entry: AccessLogEntry) -> str:
    return hmac.new(key.encode(), _access_content(entry), hashlib.sha256).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain_access_log(session: Session, flush_context, instances) -> None:
    """Links new access log entries onto its chain before they are inserted (the table refuses UPDATE)."""
    entries = [obj for obj in session.new if isinstance(obj, AccessLogEntry)]
    if not entries:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_ACCESS_LOCK_ID)))
    else:  # SQLite: a write, though of nothing, takes the write lock before the head is read
        session.execute(sa.text("UPDATE access_log SET seq = seq WHERE 0"))
    head = session.execute(sa.select(AccessLogEntry.seq, AccessLogEntry.hash).where(AccessLogEntry.seq.is_not(None))
                           .order_by(AccessLogEntry.seq.desc()).limit(1)).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
    keep_anchor = not _chain_holds_anchor(session, seq, ACCESS_CHAIN)
    key = _audit_key()
    for entry in entries:
        seq += 1
        entry.at = entry.at or utcnow()
        entry.outside_own_work = bool(entry.outside_own_work)
        entry.seq, entry.prev_hash = seq, prev_hash
        entry.hash = prev_hash = _access_seal(key, entry)
    if keep_anchor:
        current_app.logger.error("Access log chain does not hold its recorded head: head file left unchanged.")
    else:
        session.info.setdefault(_HEAD, {})[ACCESS_CHAIN] = {"seq": seq, "hash": prev_hash}


@event.listens_for(Session, "after_flush")
def _note_audited_changes(session: Session, flush_context) -> None:
    touched = session.info.setdefault(_TOUCHED, {})
    session.info.setdefault(_INSERTED, set()).update(id(obj) for obj in session.new)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if getattr(obj, "__audited__", False) and (obj not in session.dirty or session.is_modified(obj)):
            touched[id(obj)] = obj


@event.listens_for(Session, "before_commit")
def _seal_and_guard(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the audit is sealed and checked once, when the whole transaction commits
    _write_pending(session)
    session.flush()
    touched = session.info.get(_TOUCHED, {})
    audited = session.info.get("audit_done", set())
    missing = [obj for key, obj in touched.items() if key not in audited]
    if missing:
        names = sorted({type(obj).__name__ for obj in missing})
        raise AuditMissing(f"Refusing to commit changes to {', '.join(names)} without an audit event.")


def _reset(session: Session) -> None:
    for key in (_PENDING, _TOUCHED, _INSERTED, "audit_done", _HEAD):
        session.info.pop(key, None)


@event.listens_for(Session, "after_commit")
def _anchor_head(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the transaction goes on, and so do its pending audit records
    heads = session.info.get(_HEAD, {})
    _reset(session)
    for chain, head in heads.items():
        try:
            write_anchor(head, chain)
        except (OSError, ValueError):
            # The change is committed: failing now would answer an error for a saved change, and the user would
            # send it again. The head file stays behind the chain, which the Admin's outbox page and verify report.
            current_app.logger.exception("Audit head file %s could not be written.", _anchor_path(chain))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    # Only the whole transaction's rollback forgets: a savepoint rolled back inside it (a deduplicated email, say)
    # leaves the audit records of the changes that stand.
    if previous_transaction.parent is None:
        _reset(session)


def _anchor_path(chain: str = AUDIT_CHAIN) -> Path | None:
    """AUDIT_HEAD_PATH for the audit chain; beside it, with "-access-log" added to its name, for the access log."""
    path = current_app.config.get("AUDIT_HEAD_PATH")
    if not path:
        return None
    path = Path(path)
    return path if chain == AUDIT_CHAIN else path.with_name(f"{path.stem}-access-log{path.suffix}")


def read_anchor(chain: str = AUDIT_CHAIN) -> dict | None:
    path = _anchor_path(chain)
    if path is None or not path.exists():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_anchor(head: dict, chain: str = AUDIT_CHAIN) -> None:
    """Keeps the highest head written, across processes (several gunicorn workers append to one chain)."""
    path = _anchor_path(chain)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_anchor(chain)
        if current and current.get("seq", 0) >= head["seq"]:
            return
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(head, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def head_file_problem(session: Session) -> str | None:
    """What is wrong with the head files, in plain words, or None: unreadable, or behind their chain because they
    could not be written after a commit. Read from the files and the chains, so every worker reports the same."""
    problems = [problem for chain, what in ((AUDIT_CHAIN, "audit trail"), (ACCESS_CHAIN, "access log"))
                if (problem := _head_file_problem(session, chain, what))]
    return " ".join(problems) or None


def _head_file_problem(session: Session, chain: str, what: str) -> str | None:
    path = _anchor_path(chain)
    if path is None:
        return None
    try:
        anchor = read_anchor(chain)
    except (OSError, ValueError) as exc:
        return f"The {what}'s head file {path} cannot be read ({exc}). Check the file and its permissions."
    model = _chain_model(chain)
    last_seq = session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.seq), 0)))
    behind = last_seq - (anchor["seq"] if anchor else 0)
    if behind <= 0:
        return None
    return (f"The {what}'s head file {path} is behind the {what} by {behind} entr{'ies' if behind != 1 else 'y'}: "
            f"it could not be written. Check that the app may write to it. Until it is written, entries cut off the "
            f"end of the {what} would not be found.")
