"""The unit of work: a change, its audit event, its chronology entry and its emails commit together or not at all;
two officers acting on one case at once: one wins, the other is told (409) and nothing of theirs overwrites the
winner's; a stale version, an event not allowed now, or a missing reason changes nothing.

Faults and interleavings are injected with SQLAlchemy session events registered inside the test only (and removed in
a `finally`); everything else is the real services on the real database. State is read back through a connection
of its own, so nothing the test's session holds can hide what was (or was not) committed.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.conftest import concern_payload, make_case

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def refer(reason: str = "Referral needed", **extra) -> dict:
    return {"event": "refer_to_police", "reason": reason, "referral_date": YESTERDAY, "subject_informed": "no",
            **extra}


def _db():
    from app.extensions import db
    return db


COUNTS = {
    "cases": "SELECT count(*) FROM prevent_case",
    "subjects": "SELECT count(*) FROM subject",
    "audit_events": "SELECT count(*) FROM audit_event",
    "entries": "SELECT count(*) FROM case_entry",
    "emails": "SELECT count(*) FROM outbox_email",
}


def counts(conn) -> dict[str, int]:
    return {name: conn.execute(sa.text(sql)).scalar() for name, sql in COUNTS.items()}


def case_state(conn, case_id: int) -> dict:
    """What a user would see of the case: its columns, its chronology and its audit trail."""
    row = conn.execute(sa.text(
        "SELECT status, version, urgent, police_incident_number, referral_date, police_reference, closure_outcome "
        "FROM prevent_case WHERE id = :id"), {"id": case_id}).mappings().one()
    entries = conn.execute(sa.text("SELECT kind, to_status, reason FROM case_entry WHERE case_id = :id ORDER BY id"),
                           {"id": case_id}).all()
    events = conn.execute(sa.text("SELECT seq, actor, action, to_status FROM audit_event WHERE case_id = :id "
                                  "ORDER BY seq"), {"id": case_id}).all()
    return {**row, "entries": [tuple(e) for e in entries], "audit": [tuple(e) for e in events],
            "all_audit_events": conn.execute(sa.text(COUNTS["audit_events"])).scalar()}


def stored_state(raw_engine, case_id: int) -> dict:
    with raw_engine.connect() as conn:
        return case_state(conn, case_id)


def assert_chain_verifies() -> None:
    from app.kernel import audit_verify
    result = audit_verify.verify(_db().session)
    assert result.ok, result


# --- a failure after the change is flushed leaves nothing ------------------------------------------------------

class InjectedFault(Exception):
    pass


@contextmanager
def fault_at_commit(probe: Callable[[Session], dict]):
    """Fails every commit, after the audit's own before_commit listener has flushed the change, sealed its audit
    events and flushed them (that listener is registered at import, so it runs first). `probe` reads, inside the
    doomed transaction, what had been written by then."""
    seen: dict = {}

    def fail(session: Session) -> None:
        seen.update(probe(session))
        raise InjectedFault("the server died after the change was flushed")

    event.listen(Session, "before_commit", fail)
    try:
        yield seen
    finally:
        event.remove(Session, "before_commit", fail)


def _counts_in(session: Session) -> dict:
    return counts(session.connection())


@pytest.mark.commits
def test_a_concern_that_fails_after_flushing_leaves_no_case_subject_audit_event_chronology_or_email(users,
                                                                                                     raw_engine):
    from app.cases import use_cases as cases
    from app.kernel import audit
    payload = concern_payload()
    name = payload["subject"]["full_name"]
    with raw_engine.connect() as conn:
        before = counts(conn)
    anchor = audit.read_anchor()

    with fault_at_commit(_counts_in) as inside, pytest.raises(InjectedFault):
        cases.raise_concern(users.staff, payload)

    # The fault struck after everything had been written in the transaction, the emails to the case team included...
    queued = inside.pop("emails") - before["emails"]
    assert queued > 0
    assert inside == {"cases": before["cases"] + 1, "subjects": before["subjects"] + 1,
                      "audit_events": before["audit_events"] + 2, "entries": before["entries"] + 1}
    # ...and none of it was kept; nor did the head kept outside the database move to events never committed.
    with raw_engine.connect() as conn:
        assert counts(conn) == before
        assert conn.execute(sa.text("SELECT count(*) FROM subject WHERE full_name = :n"), {"n": name}).scalar() == 0
    assert audit.read_anchor() == anchor

    # Nothing of the failed attempt lingers in the session: raised again, the concern brings exactly its own rows.
    case = cases.raise_concern(users.staff, payload)
    with raw_engine.connect() as conn:
        assert counts(conn) == {"cases": before["cases"] + 1, "subjects": before["subjects"] + 1,
                                "audit_events": before["audit_events"] + 2, "entries": before["entries"] + 1,
                                "emails": before["emails"] + queued}
    assert stored_state(raw_engine, case.id)["audit"][0][2] == "raise_concern"
    assert_chain_verifies()


@pytest.mark.commits
def test_a_transition_that_fails_after_flushing_leaves_the_case_its_audit_and_chronology_as_they_were(
        users, raw_engine):
    from app.cases import use_cases as cases
    from app.kernel import audit
    case_id = make_case("staff", "under_review")
    before, anchor = stored_state(raw_engine, case_id), audit.read_anchor()

    def probe(session: Session) -> dict:
        return case_state(session.connection(), case_id)

    with fault_at_commit(probe) as inside, pytest.raises(InjectedFault):
        cases.transition(users.officer, case_id, refer(police_reference="PR-LOST", version=before["version"]))

    assert (inside["status"], inside["version"], inside["police_reference"]) == \
        ("referred_to_police", before["version"] + 1, "PR-LOST")
    assert len(inside["audit"]) == len(before["audit"]) + 1
    assert len(inside["entries"]) == len(before["entries"]) + 1
    assert stored_state(raw_engine, case_id) == before
    assert audit.read_anchor() == anchor

    # The officer tries again with the same version: it works, once, with nothing left over from the failed try.
    cases.transition(users.officer, case_id, refer(police_reference="PR-KEPT", version=before["version"]))
    after = stored_state(raw_engine, case_id)
    assert (after["status"], after["version"], after["police_reference"]) == \
        ("referred_to_police", before["version"] + 1, "PR-KEPT")
    assert after["audit"][:-1] == before["audit"]
    assert after["audit"][-1][1:] == ("officer", "refer_to_police", "referred_to_police")
    assert after["all_audit_events"] == before["all_audit_events"] + 1
    assert after["entries"] == before["entries"] + [("transition", "referred_to_police", "Referral needed")]
    assert_chain_verifies()


# --- two officers at once --------------------------------------------------------------------------------------

@contextmanager
def both_read_before_either_writes(parties: int = 2):
    """Holds each participating thread at its first flush that would write a Case, until every participant has
    read the case and got there: then they race to write it, and only the database can decide between them."""
    from app.models import Case
    barrier = threading.Barrier(parties, timeout=20)
    participants: set[int] = set()
    arrived: set[int] = set()

    def hold(session: Session, flush_context, instances) -> None:
        me = threading.get_ident()
        if me in participants and me not in arrived and any(isinstance(o, Case) for o in session.dirty):
            arrived.add(me)
            barrier.wait()

    event.listen(Session, "before_flush", hold)
    try:
        yield participants
        assert arrived == participants and len(arrived) == parties, "the threads did not both read before writing"
    finally:
        event.remove(Session, "before_flush", hold)
        barrier.abort()


def run_together(targets: dict[str, Callable[[], object]], participants: set[int]) -> dict[str, tuple]:
    results: dict[str, tuple] = {}

    def run(name: str, target: Callable[[], object]) -> None:
        participants.add(threading.get_ident())
        try:
            results[name] = ("returned", target())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            results[name] = ("raised", exc)

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in targets.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def assert_one_transition(raw_engine, case_id: int, before: dict, winner: str, reference: str) -> None:
    after = stored_state(raw_engine, case_id)
    assert (after["status"], after["version"], after["police_reference"]) == \
        ("referred_to_police", before["version"] + 1, reference)
    assert after["audit"][:-1] == before["audit"]
    assert after["audit"][-1][1:] == (winner, "refer_to_police", "referred_to_police")
    assert after["all_audit_events"] == before["all_audit_events"] + 1
    assert after["entries"] == before["entries"] + [("transition", "referred_to_police", f"Referral by {winner}")]


@pytest.mark.commits
def test_two_officers_taking_an_event_at_once_one_wins_the_other_is_told(app, ctx, raw_engine):
    from app.cases import use_cases as cases
    from app.kernel.errors import StaleVersion
    case_id = make_case("staff", "under_review")
    _db().session.rollback()
    before = stored_state(raw_engine, case_id)

    def take(username: str):
        def target():
            with app.app_context():
                actor = app.appbuilder.sm.find_user(username)
                case = cases.transition(actor, case_id, refer(f"Referral by {username}",
                                                              police_reference=f"PR-{username}",
                                                              version=before["version"]))
                return case.status.value, case.version
        return target

    with both_read_before_either_writes() as participants:
        results = run_together({"officer": take("officer"), "officer2": take("officer2")}, participants)

    won = [name for name, (how, _) in results.items() if how == "returned"]
    assert len(won) == 1, results
    winner, loser = won[0], ({"officer", "officer2"} - set(won)).pop()
    assert results[winner][1] == ("referred_to_police", before["version"] + 1)
    how, error = results[loser]
    assert how == "raised" and isinstance(error, StaleVersion), results
    assert (error.status_code, error.status) == (409, "referred_to_police")
    assert_one_transition(raw_engine, case_id, before, winner, f"PR-{winner}")
    assert_chain_verifies()


@pytest.mark.commits
def test_two_officers_posting_a_transition_at_once_get_one_200_and_one_409(app, api, raw_engine):
    case_id = make_case("staff", "under_review")
    clients = {"officer": api("officer"), "officer2": api("officer2")}  # signed in before the race
    version = clients["officer"].get(f"/api/v1/case/{case_id}").get_json()["result"]["version"]
    _db().session.rollback()
    before = stored_state(raw_engine, case_id)
    assert before["version"] == version

    def post(username: str):
        def target():
            response = clients[username].post(f"/api/v1/case/{case_id}/transition", json=refer(
                f"Referral by {username}", police_reference=f"PR-{username}", version=version))
            return response.status_code, response.get_json()
        return target

    with both_read_before_either_writes() as participants:
        results = run_together({name: post(name) for name in clients}, participants)

    assert all(how == "returned" for how, _ in results.values()), results
    codes = {name: answer[0] for name, (_, answer) in results.items()}
    assert sorted(codes.values()) == [200, 409], results
    winner = next(name for name, code in codes.items() if code == 200)
    loser = next(name for name, code in codes.items() if code == 409)
    assert results[winner][1][1]["result"]["status"] == "referred_to_police"
    conflict = results[loser][1][1]
    assert conflict["status"] == "referred_to_police"
    assert "changed" in conflict["message"]
    assert_one_transition(raw_engine, case_id, before, winner, f"PR-{winner}")
    assert_chain_verifies()


# --- refused requests change nothing ---------------------------------------------------------------------------

def assert_a_later_event_is_audited_once(raw_engine, users, case_id: int, event: dict) -> None:
    """Nothing of a refused attempt lingers in the session to be committed with the next change."""
    from app.cases import use_cases as cases
    before = stored_state(raw_engine, case_id)
    cases.transition(users.officer, case_id, event)
    after = stored_state(raw_engine, case_id)
    assert after["all_audit_events"] == before["all_audit_events"] + 1
    assert after["audit"][:-1] == before["audit"] and after["audit"][-1][2] == event["event"]


@pytest.mark.commits
def test_a_stale_version_is_refused_with_409_and_overwrites_nothing(users, raw_engine):
    from app.cases import use_cases as cases
    from app.kernel.errors import StaleVersion
    case_id = make_case("staff", "under_review")
    opened = stored_state(raw_engine, case_id)["version"]  # both officers open the case at this version
    cases.record_immediate_risk(users.officer2, case_id, {"police_called": True, "police_incident_number": "INC-2",
                                                          "note": "Threat reported; 999 called"})
    before = stored_state(raw_engine, case_id)
    assert before["version"] == opened + 1

    with pytest.raises(StaleVersion) as refused:
        cases.transition(users.officer, case_id, refer(police_reference="PR-STALE", version=opened))
    assert (refused.value.status_code, refused.value.status) == (409, "under_review")
    assert stored_state(raw_engine, case_id) == before
    assert_a_later_event_is_audited_once(raw_engine, users, case_id, refer(version=before["version"]))


@pytest.mark.parametrize(("state", "event", "data"), [
    ("reported", "refer_to_police", refer()),
    ("under_review", "exit_support", {"exit_date": YESTERDAY, "exit_reason": "Done"}),
    ("under_review", "no_such_event", {}),
])
@pytest.mark.commits
def test_an_event_not_allowed_now_is_refused_and_changes_nothing(users, raw_engine, state, event, data):
    from app.cases import use_cases as cases
    from app.kernel.errors import NotAllowed
    case_id = make_case("staff", state)
    before = stored_state(raw_engine, case_id)
    with pytest.raises(NotAllowed) as refused:
        cases.transition(users.officer, case_id, {**data, "event": event, "reason": "Trying anyway",
                                                  "version": before["version"]})
    assert (refused.value.status_code, refused.value.status) == (409, state)
    assert stored_state(raw_engine, case_id) == before
    assert_a_later_event_is_audited_once(raw_engine, users, case_id, {"event": "close", "reason": "Nothing to add",
                                                                       "outcome": "no_further_action"}
                                         if state == "under_review" else {"event": "acknowledge", "reason": "Seen"})


@pytest.mark.parametrize(("change", "field"), [
    ({"reason": None}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"referral_date": None}, "referral_date"),
])
@pytest.mark.commits
def test_a_missing_reason_or_required_data_is_refused_and_changes_nothing(users, raw_engine, change, field):
    from app.cases import use_cases as cases
    from app.kernel.errors import InvalidData
    case_id = make_case("staff", "under_review")
    before = stored_state(raw_engine, case_id)
    payload = {k: v for k, v in {**refer(version=before["version"]), **change}.items() if v is not None}
    with pytest.raises(InvalidData) as refused:
        cases.transition(users.officer, case_id, payload)
    assert refused.value.status_code == 422
    assert set(refused.value.errors) == {field}
    assert stored_state(raw_engine, case_id) == before
    assert_a_later_event_is_audited_once(raw_engine, users, case_id, refer(version=before["version"]))


def test_a_savepoint_rolled_back_inside_a_change_keeps_that_changes_audit(ctx):
    """A deduplicated email (a savepoint rolled back) in the middle of an audited change leaves its audit standing."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.kernel import audit
    from app.kernel.uow import unit_of_work
    from app.models import AuditEvent, Case
    from app.notifications import outbox
    from tests.conftest import make_case, user

    case_id = make_case("staff")
    key = f"test-dedupe-{case_id}"
    with unit_of_work() as session:
        outbox.queue(session, kind="test", recipient=user("officer"), subject="Once", body="x", dedupe_key=key)
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        case.location = "Library"
        audit.record(session, user("officer"), "test_change", case)
        assert outbox.queue(session, kind="test", recipient=user("officer"), subject="Twice", body="x",
                            dedupe_key=key) is None
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.case_id == case_id)
                             .order_by(AuditEvent.seq.desc()).limit(1)) == "test_change"


def test_a_savepoint_released_inside_a_change_keeps_that_changes_audit(ctx):
    """A savepoint that succeeds (an email queued under a new dedupe key, a staff entry added at first sign-in) in the
    middle of an audited change: the change's audit is written at the commit, not forgotten at the savepoint."""
    import uuid

    import sqlalchemy as sa

    from app.extensions import db
    from app.kernel import audit
    from app.kernel.uow import unit_of_work
    from app.models import AuditEvent, Case
    from app.notifications import outbox
    from tests.conftest import make_case, user

    case_id = make_case("staff")
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        case.location = "Workshop"
        audit.record(session, user("officer"), "test_change", case)
        assert outbox.queue(session, kind="test", recipient=user("officer"), subject="Once", body="x",
                            dedupe_key=f"test-dedupe-{uuid.uuid4().hex}") is not None
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.case_id == case_id)
                             .order_by(AuditEvent.seq.desc()).limit(1)) == "test_change"
