"""Verifying the audit trail: every event's seal and link in the chain, the access log's own chain, the head
files kept outside the database, and (with records=True) each audited record against its latest seal.
`flask audit verify` runs it; so does the outbox page's warning."""
from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.kernel import record_seals
from app.kernel.audit import (
    ACCESS_CHAIN,
    ERASED_EVENTS,
    ERASURE,
    GENESIS,
    _access_seal,
    _audit_key,
    _seal,
    head_file_problem,
    read_anchor,
)
from app.models import AccessLogEntry, AuditEvent


@dataclass
class Verification:
    ok: bool
    events: int
    head: str | None
    first_bad_seq: int | None
    problem: str | None = None
    records: record_seals.RecordsCheck | None = None  # with verify(records=True) only

    def as_dict(self) -> dict:
        found: dict[str, Any] = {"ok": self.ok, "events": self.events, "head": self.head,
                                 "first_bad_seq": self.first_bad_seq, "problem": self.problem}
        if self.records is not None:
            found["records"] = {"checked": self.records.checked, "differ": len(self.records.findings)}
        return found


def verify(session: Session, records: bool = False,
           progress: Callable[[str, int, int], None] = lambda what, done, total: None) -> Verification:
    """Checks the whole chain and its recorded head; with `records`, also every audited record against its last
    seal and the access log's chain. Read-only: it ends the transaction its reads opened, whatever it finds (a
    long-lived session must not keep audit_event locked, or the rows it read, after a failed check)."""
    try:
        sealed: dict[str, str] = {}
        result = _verify(session, sealed if records else None)
        if records:
            result.records = record_seals.RecordsCheck()
            if result.ok or result.first_bad_seq is None:  # the chain's seals can be trusted
                result.records = record_seals.check_records(session, _audit_key(), sealed, progress)
            result.records.findings += _verify_access_log(session)
            if result.records.findings and result.ok:
                result.ok, result.problem = False, "records differ from their last audited state"
        return result
    finally:
        session.rollback()


def chain_seals(session: Session) -> tuple[Verification, dict[str, str]]:
    """The chain's verification and, per record, the last seal it holds. Read-only, like verify()."""
    sealed: dict[str, str] = {}
    try:
        return _verify(session, sealed), sealed
    finally:
        session.rollback()


def _verify(session: Session, sealed: dict[str, str] | None = None) -> Verification:
    """The walk; it gathers into `sealed`, when given, the last seal of each record."""
    key = _audit_key()
    vouched = _erasure_seals(session)
    expected_seq, prev_hash, count = 1, GENESIS, 0
    rows = session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000))
    for ev in rows.scalars():
        if ev.seq != expected_seq:
            return Verification(False, count, prev_hash, expected_seq, "an event is missing")
        if ev.prev_hash != prev_hash:
            return Verification(False, count, prev_hash, ev.seq, "the chain is broken (deleted or reordered)")
        if not hmac.compare_digest(_seal(key, ev), ev.hash) and not _erased_as_vouched(key, ev, vouched):
            return Verification(False, count, prev_hash, ev.seq, "the event does not match its seal (edited)")
        if sealed is not None and ev.seals:
            sealed.update(ev.seals)
        prev_hash, expected_seq, count = ev.hash, expected_seq + 1, count + 1
    try:
        anchor = read_anchor()
    except (OSError, ValueError):
        anchor = None  # head_file_problem names it below
    if anchor and anchor["seq"] >= expected_seq:
        return Verification(False, count, prev_hash, expected_seq, "events at the end of the chain are missing")
    if anchor:
        anchored = session.execute(sa.select(AuditEvent.hash).where(AuditEvent.seq == anchor["seq"])).scalar()
        if anchored != anchor["hash"]:
            return Verification(False, count, prev_hash, anchor["seq"], "the chain differs from its recorded head")
    head_problem = head_file_problem(session)
    if head_problem:
        return Verification(False, count, prev_hash, None, head_problem)
    return Verification(True, count, prev_hash if count else None, None)


def _verify_access_log(session: Session) -> list[str]:
    """The access log's chain, entry by entry, and its recorded head: what is wrong, in plain words."""
    key = _audit_key()
    findings: list[str] = []
    expected_seq = 1
    prev_hash: str | None = GENESIS  # then each entry's hash, NULL if someone emptied it
    rows = session.execute(sa.select(AccessLogEntry).where(AccessLogEntry.seq.is_not(None))
                           .order_by(AccessLogEntry.seq).execution_options(yield_per=1000))
    for entry in rows.scalars():
        assert entry.seq is not None  # the query takes chained entries only
        if entry.seq != expected_seq:
            findings.append(f"access log: entries {expected_seq} to {entry.seq - 1} of its chain are gone")
        elif entry.prev_hash != prev_hash:
            findings.append(f"access log: its chain is broken at entry {entry.seq} (deleted or reordered)")
        if not hmac.compare_digest(_access_seal(key, entry), entry.hash or ""):
            findings.append(f"access log entry {entry.id}: changed since it was logged")
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    try:
        anchor = read_anchor(ACCESS_CHAIN)
    except (OSError, ValueError):
        anchor = None  # head_file_problem names it
    if anchor and anchor["seq"] >= expected_seq:
        findings.append(f"access log: its last {anchor['seq'] - expected_seq + 1} entries are gone")
    elif anchor and session.scalar(sa.select(AccessLogEntry.hash).where(AccessLogEntry.seq == anchor["seq"])
                                   ) != anchor["hash"]:
        findings.append("access log: its chain differs from its recorded head")
    unchained = session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry)
                               .where(AccessLogEntry.seq.is_(None)))
    if unchained:
        findings.append(f"access log: {unchained} entr{'ies are' if unchained != 1 else 'y is'} outside its chain "
                        "(added behind the app's back)")
    return findings


def _erasure_seals(session: Session) -> dict[int, str]:
    """Every erased event's seal, as the tombstones carry them (each tombstone is itself checked in the walk)."""
    seals: dict[int, str] = {}
    for changes in session.scalars(sa.select(AuditEvent.changes).where(AuditEvent.action == ERASURE)):
        erased = ((changes or {}).get(ERASED_EVENTS) or {}).get("new") or {}
        seals.update({int(seq): seal for seq, seal in erased.items()})
    return seals


def _erased_as_vouched(key: str, ev: AuditEvent, vouched: dict[int, str]) -> bool:
    return (ev.reason is None and ev.changes is None and ev.seq in vouched
            and hmac.compare_digest(_seal(key, ev), vouched[ev.seq]))
