"""The audit trail: who, when, what, from/to, why and which fields, for every change; refused without an actor or an
audit event; append-only in the database itself; and tampering of every kind found by `flask audit verify`.

The tampering tests act as an attacker with database access only (no AUDIT_KEY, no access to AUDIT_HEAD_PATH): they
drop the append-only triggers and change rows through a connection of their own, so they are marked `commits` and
each has a database (and head files) of its own.
"""
from __future__ import annotations

import importlib.util
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import concern_payload, make_case

# The revision that last set audit_event's triggers (append-only, but for retention's erasure of content).
MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0012_record_seals.py"
EVENT_COLUMNS = ("seq", "at", "actor_id", "actor", "action", "entity_type", "entity_id", "case_id", "from_status",
                   "to_status", "reason", "changes", "prev_hash", "hash")


def _append_only_migration():
    """The revision whose trigger DDL the attacker fixture drops and puts back."""
    spec = importlib.util.spec_from_file_location("migration_audit_triggers", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- helpers ---------------------------------------------------------------------------------------------------

def _db():
    from app.extensions import db
    return db


def last_seq() -> int:
    from app.models import AuditEvent
    db = _db()
    seq = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0)))
    db.session.rollback()
    return seq


def events_after(seq: int) -> list[dict]:
    """The audit events appended after `seq`, as plain dicts, oldest first."""
    from app.models import AuditEvent
    db = _db()
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)).all()
    found = [{name: getattr(ev, name) for name in EVENT_COLUMNS} for ev in rows]
    db.session.rollback()
    return found


def assert_when(event: dict, t0: datetime, t1: datetime) -> None:
    assert event["at"].utcoffset() == timedelta(0), "audit times are UTC"
    assert t0 <= event["at"] <= t1, (t0, event["at"], t1)


def now() -> datetime:
    return datetime.now(UTC)


def cli_verify(app) -> tuple[int, dict]:
    _db().session.rollback()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


# --- every change is audited, with who, when, what, from/to, why and which fields --------------------------------

def test_raising_a_concern_audits_the_new_case_and_subject_field_by_field(users):
    from app.cases import use_cases as cases
    from app.models import Indicator
    db = _db()
    indicator_id = db.session.scalar(sa.select(Indicator.id).where(Indicator.active.is_(True)).limit(1))
    payload = concern_payload(location="Library", indicator_ids=[indicator_id])
    before, t0 = last_seq(), now()
    case = cases.raise_concern(users.staff, payload)
    t1 = now()
    case_id, subject_id, staff_id = case.id, case.subject_id, users.staff.id

    subject_event, case_event = events_after(before)  # exactly two: the new subject, then the concern
    for ev in (subject_event, case_event):
        assert (ev["actor"], ev["actor_id"]) == ("staff", staff_id)
        assert_when(ev, t0, t1)
    assert (subject_event["action"], subject_event["entity_type"], subject_event["entity_id"]) == \
        ("create_subject", "Subject", str(subject_id))
    assert subject_event["changes"]["full_name"] == {"old": None, "new": payload["subject"]["full_name"]}
    assert subject_event["changes"]["date_of_birth"] == {"old": None, "new": "2008-01-02"}
    assert subject_event["changes"]["created_by_id"] == {"old": None, "new": staff_id}

    assert (case_event["action"], case_event["entity_type"], case_event["entity_id"], case_event["case_id"]) == \
        ("raise_concern", "Case", str(case_id), case_id)
    assert (case_event["from_status"], case_event["to_status"]) == (None, "reported")
    changes = case_event["changes"]
    assert changes["description"] == {"old": None, "new": payload["description"]}
    assert changes["location"] == {"old": None, "new": "Library"}
    assert changes["status"] == {"old": None, "new": "reported"}
    assert changes["subject_id"] == {"old": None, "new": subject_id}
    assert changes["indicator_ids"] == {"old": None, "new": [indicator_id]}
    assert "version" not in changes


def test_a_transition_audits_from_to_reason_and_the_old_and_new_value_of_each_column_it_sets(users):
    from app.cases import use_cases as cases
    case_id = make_case("staff", "under_review")
    referral = (date.today() - timedelta(days=1)).isoformat()
    before, t0 = last_seq(), now()
    cases.transition(users.officer, case_id, {
        "event": "refer_to_police", "reason": "Indicators of radicalisation confirmed by tutor",
        "referral_date": referral, "subject_informed": "yes", "police_reference": "PR-2026-0042",
    })
    t1 = now()

    [ev] = events_after(before)
    assert (ev["actor"], ev["actor_id"]) == ("officer", users.officer.id)
    assert_when(ev, t0, t1)
    assert (ev["action"], ev["entity_type"], ev["entity_id"], ev["case_id"]) == \
        ("refer_to_police", "Case", str(case_id), case_id)
    assert (ev["from_status"], ev["to_status"]) == ("under_review", "referred_to_police")
    assert ev["reason"] == "Indicators of radicalisation confirmed by tutor"
    # Exactly the columns the event set, each with its old and new value; nothing unchanged, no version counter.
    assert ev["changes"] == {
        "status": {"old": "under_review", "new": "referred_to_police"},
        "referral_date": {"old": None, "new": referral},
        "subject_informed": {"old": None, "new": True},
        "police_reference": {"old": None, "new": "PR-2026-0042"},
    }


def test_reopening_audits_the_value_a_column_had_before(users):
    from app.cases import use_cases as cases
    case_id = make_case("staff", "closed")
    before = last_seq()
    cases.transition(users.lead, case_id, {"event": "reopen", "reason": "New information from the employer"})
    [ev] = events_after(before)
    assert (ev["actor"], ev["action"], ev["from_status"], ev["to_status"], ev["reason"]) == \
        ("lead", "reopen", "closed", "under_review", "New information from the employer")
    assert ev["changes"] == {
        "status": {"old": "closed", "new": "under_review"},
        "closure_outcome": {"old": "no_further_action", "new": None},
    }


def test_recording_immediate_risk_audits_the_change_to_the_case(users):
    from app.cases import use_cases as cases
    case_id = make_case("staff", "under_review")
    before, t0 = last_seq(), now()
    cases.record_immediate_risk(users.officer, case_id, {"police_called": True, "police_incident_number": "INC-77",
                                                         "note": "Threat made in class; 999 called"})
    [ev] = events_after(before)
    assert_when(ev, t0, now())
    assert (ev["actor"], ev["action"], ev["case_id"], ev["reason"]) == \
        ("officer", "immediate_risk", case_id, "Threat made in class; 999 called")
    assert ev["changes"] == {
        "urgent": {"old": False, "new": True},
        "police_called": {"old": False, "new": True},
        "police_incident_number": {"old": None, "new": "INC-77"},
    }


def test_creating_a_subject_on_its_own_is_audited(users):
    from app.cases import subjects
    before, t0 = last_seq(), now()
    subject = subjects.create_subject(users.officer, {"full_name": "Audited Person", "subject_type": "public",
                                                       "learner_ref": "L-999"})
    [ev] = events_after(before)
    assert_when(ev, t0, now())
    assert (ev["actor"], ev["action"], ev["entity_type"], ev["entity_id"]) == \
        ("officer", "create_subject", "Subject", str(subject.id))
    assert ev["changes"]["full_name"] == {"old": None, "new": "Audited Person"}
    assert ev["changes"]["subject_type"] == {"old": None, "new": "public"}
    assert ev["changes"]["learner_ref"] == {"old": None, "new": "L-999"}


def test_adding_and_completing_an_action_is_audited_field_by_field(users):
    from app.cases import actions
    case_id = make_case("staff", "under_review")
    due = (date.today() + timedelta(days=7)).isoformat()
    before, t0 = last_seq(), now()
    action = actions.add_action(users.officer, case_id, {"title": "Speak to the tutor", "owner_id": users.officer2.id,
                                                         "due_date": due})
    action_id, version = action.id, action.version
    actions.update_action(users.officer2, action_id, {"status": "done", "completion_note": "Tutor spoken to",
                                                      "version": version})
    added, done = events_after(before)
    for ev in (added, done):
        assert_when(ev, t0, now())
        assert (ev["entity_type"], ev["entity_id"], ev["case_id"]) == ("CaseAction", str(action_id), case_id)
    assert (added["actor"], added["action"]) == ("officer", "add_action")
    assert added["changes"]["title"] == {"old": None, "new": "Speak to the tutor"}
    assert added["changes"]["owner_id"] == {"old": None, "new": users.officer2.id}
    assert added["changes"]["due_date"] == {"old": None, "new": due}
    assert added["changes"]["status"] == {"old": None, "new": "open"}
    assert (done["actor"], done["action"], done["reason"]) == ("officer2", "action_done", "Tutor spoken to")
    assert set(done["changes"]) == {"status", "completion_note", "completed_at"}
    assert done["changes"]["status"] == {"old": "open", "new": "done"}
    assert done["changes"]["completion_note"] == {"old": None, "new": "Tutor spoken to"}


def test_granting_and_withdrawing_access_to_a_restricted_case_is_audited(users):
    from app.cases import access
    case_id = make_case("staff", subject={"full_name": "A Colleague", "subject_type": "staff"})
    officer_id, lead_id = users.officer.id, users.lead.id
    before = last_seq()
    access.grant_access(users.lead, case_id, {"user_id": officer_id, "reason": "Needs to know: line manager away"})
    access.revoke_access(users.lead, case_id, officer_id, {"reason": "Enquiry finished"})
    granted, revoked = events_after(before)
    for ev in (granted, revoked):
        assert (ev["actor"], ev["entity_type"], ev["entity_id"], ev["case_id"]) == \
            ("lead", "CaseAccessGrant", f"{case_id}/{officer_id}", case_id)
    assert (granted["action"], granted["reason"]) == ("grant_access", "Needs to know: line manager away")
    assert granted["changes"]["user_id"] == {"old": None, "new": officer_id}
    assert granted["changes"]["granted_by_id"] == {"old": None, "new": lead_id}
    assert (revoked["action"], revoked["reason"]) == ("revoke_access", "Enquiry finished")
    assert revoked["changes"] == {"user_id": {"old": officer_id, "new": None}}


# --- refused: no actor, or no audit event ---------------------------------------------------------------------

def _case_row(raw_engine, case_id: int) -> dict:
    """The case as stored, read through a connection of its own (so nothing the session holds can hide it)."""
    with raw_engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT status, version, location FROM prevent_case WHERE id = :id"),
                                 {"id": case_id}).mappings().one())


@pytest.mark.parametrize("actor", [None, "", "   "])
@pytest.mark.commits
def test_a_change_without_an_actor_is_refused_and_nothing_is_saved(raw_engine, users, actor):
    from app.kernel import audit
    from app.kernel.uow import unit_of_work
    from app.models import Case
    case_id = make_case("staff", "reported")
    stored, before = _case_row(raw_engine, case_id), last_seq()
    with pytest.raises(audit.ActorRequired), unit_of_work() as session:
        case = session.get(Case, case_id)
        case.location = "Changed by nobody"
        audit.record(session, actor, "edit", case, reason="no one did this")
    assert _case_row(raw_engine, case_id) == stored
    assert last_seq() == before


@pytest.mark.commits
def test_a_change_to_an_audited_record_without_an_audit_event_is_refused_and_nothing_is_saved(raw_engine, users):
    from app.kernel.audit import AuditMissing
    from app.kernel.uow import unit_of_work
    from app.models import Case
    case_id = make_case("staff", "reported")
    stored, before = _case_row(raw_engine, case_id), last_seq()
    with pytest.raises(AuditMissing, match="Case"), unit_of_work() as session:
        session.get(Case, case_id).location = "Changed behind the audit's back"
    assert _case_row(raw_engine, case_id) == stored
    assert last_seq() == before


@pytest.mark.commits
def test_the_guard_holds_for_a_plain_commit_and_for_each_record_separately(raw_engine, users):
    """An audit event for one case does not cover a change to another; nor does committing outside a service help."""
    from app.kernel import audit
    from app.models import Case, Subject, SubjectType
    db = _db()
    audited_id, unaudited_id = make_case("staff", "reported"), make_case("staff", "reported")
    stored = {cid: _case_row(raw_engine, cid) for cid in (audited_id, unaudited_id)}
    before = last_seq()
    audited, unaudited = db.session.get(Case, audited_id), db.session.get(Case, unaudited_id)
    audited.location, unaudited.location = "Audited change", "Unaudited change"
    audit.record(db.session, users.officer, "edit", audited, reason="recorded")
    with pytest.raises(audit.AuditMissing):
        db.session.commit()
    db.session.rollback()
    assert {cid: _case_row(raw_engine, cid) for cid in stored} == stored
    assert last_seq() == before

    subjects_before = db.session.scalar(sa.select(sa.func.count()).select_from(Subject))
    db.session.add(Subject(full_name="Unaudited Person", subject_type=SubjectType.public, name_key="unaudited person",
                           created_by_id=users.officer.id))
    with pytest.raises(audit.AuditMissing, match="Subject"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == subjects_before
    assert last_seq() == before


# --- append-only in the database ------------------------------------------------------------------------------

def _refused(raw_engine, statement: str, params: dict | None = None) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), raw_engine.begin() as conn:
        conn.execute(sa.text(statement), params or {})


def _all_events(conn) -> list[dict]:
    from app.models import AuditEvent
    table = AuditEvent.__table__
    return [dict(row) for row in conn.execute(sa.select(table).order_by(table.c.seq)).mappings()]


@pytest.mark.commits
def test_the_database_refuses_update_and_delete_on_audit_events(app, ctx, raw_engine):
    make_case("staff", "under_review")
    _db().session.rollback()
    with raw_engine.connect() as conn:
        stored = _all_events(conn)
    last = stored[-1]["seq"]
    _refused(raw_engine, "UPDATE audit_event SET reason = 'rewritten' WHERE seq = :seq", {"seq": last})
    _refused(raw_engine, "UPDATE audit_event SET actor = 'someone else'")
    _refused(raw_engine, "DELETE FROM audit_event WHERE seq = :seq", {"seq": last})
    _refused(raw_engine, "DELETE FROM audit_event")
    with raw_engine.connect() as conn:
        assert _all_events(conn) == stored


@pytest.mark.commits
def test_postgresql_also_refuses_truncate(app, ctx, raw_engine):
    if raw_engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none (its DELETE without WHERE is refused above)")
    make_case("staff", "reported")
    _db().session.rollback()
    with raw_engine.connect() as conn:
        stored = _all_events(conn)
    _refused(raw_engine, "TRUNCATE audit_event")
    with raw_engine.connect() as conn:
        assert _all_events(conn) == stored


# --- tamper evidence -------------------------------------------------------------------------------------------

class Attacker:
    """Database access without the key: triggers dropped, rows changed through a connection of its own."""

    def __init__(self, engine, rows: list[dict]):
        self.engine = engine
        self.rows = rows  # the chain as it was, oldest first

    @property
    def last(self) -> int:
        return self.rows[-1]["seq"]

    def execute(self, statement: str, params: dict | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(statement), params or {})

    def reseal_from(self, seq: int, key: str, edit: dict) -> None:
        """Edits event `seq` and re-seals it and every later event under `key`, relinking the chain as it goes."""
        from app.kernel import audit
        from app.models import AuditEvent
        table = AuditEvent.__table__
        prev_hash = None
        with self.engine.begin() as conn:
            for row in self.rows:
                if row["seq"] < seq:
                    continue
                # The attacker knows the algorithm (it is in the source); only the key is out of reach.
                ev = AuditEvent(**{**row, **(edit if row["seq"] == seq else {})})
                if prev_hash is not None:
                    ev.prev_hash = prev_hash
                ev.hash = audit._seal(key, ev)
                prev_hash = ev.hash
                conn.execute(table.update().where(table.c.seq == row["seq"]).values(
                    reason=ev.reason, prev_hash=ev.prev_hash, hash=ev.hash))


@pytest.fixture()
def attacker(app, ctx, raw_engine):
    """Drops the triggers for the test (in its database of its own), after checking that the chain verifies."""
    migration = _append_only_migration()
    # A few events of our own, so that there is a middle and a tail whatever ran before.
    make_case("staff", "under_review")
    make_case("staff", "under_review")
    code, result = cli_verify(app)
    assert (code, result["ok"]) == (0, True), result
    anchor_path = Path(app.config["AUDIT_HEAD_PATH"])
    anchor = anchor_path.read_bytes()
    with raw_engine.connect() as conn:
        rows = _all_events(conn)
    assert json.loads(anchor) == {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}
    with raw_engine.begin() as conn:
        migration.drop_triggers(conn)
    return Attacker(raw_engine, rows)


def assert_tampering_found(app, api, first_bad_seq: int) -> dict:
    code, result = cli_verify(app)
    assert code == 1, result
    assert (result["ok"], result["first_bad_seq"]) == (False, first_bad_seq), result
    over_api = api("lead").get("/api/v1/audit/verify")
    assert over_api.status_code == 200
    assert over_api.get_json() == result
    return result


@pytest.mark.commits
def test_an_untampered_chain_verifies_from_the_cli_and_the_api(app, ctx, api, raw_engine):
    make_case("staff", "under_review")
    with raw_engine.connect() as conn:
        rows = _all_events(conn)
    code, result = cli_verify(app)
    assert code == 0
    assert result == {"ok": True, "events": len(rows), "head": rows[-1]["hash"], "first_bad_seq": None,
                      "problem": None}
    response = api("lead").get("/api/v1/audit/verify")
    assert response.status_code == 200
    body = response.get_json()
    assert {"ok", "events", "head", "first_bad_seq"} <= set(body)
    assert body == result


@pytest.mark.parametrize("username", ["staff", "officer", "director", "governance", "admin"])
def test_only_the_prevent_lead_may_verify_the_chain(api, username):
    response = api(username).get("/api/v1/audit/verify")
    assert response.status_code == 403
    assert "ok" not in (response.get_json() or {})


def test_anonymous_users_may_not_verify_the_chain(api):
    assert api(None).get("/api/v1/audit/verify").status_code == 401


@pytest.mark.commits
def test_editing_an_event_is_found(app, api, attacker):
    seq = attacker.last - 3
    attacker.execute("UPDATE audit_event SET reason = :reason WHERE seq = :seq", {"reason": "Nothing to see",
                                                                                   "seq": seq})
    result = assert_tampering_found(app, api, seq)
    assert "seal" in result["problem"]


@pytest.mark.commits
def test_editing_the_recorded_changes_of_an_event_is_found(app, api, attacker):
    row = next(r for r in reversed(attacker.rows) if r["changes"])
    forged = {**row["changes"], "status": {"old": "reported", "new": "closed"}}
    attacker.execute("UPDATE audit_event SET changes = :changes WHERE seq = :seq",
                     {"changes": json.dumps(forged), "seq": row["seq"]})
    assert_tampering_found(app, api, row["seq"])


@pytest.mark.commits
def test_deleting_an_event_in_the_middle_is_found(app, api, attacker):
    seq = attacker.last - 2
    attacker.execute("DELETE FROM audit_event WHERE seq = :seq", {"seq": seq})
    assert_tampering_found(app, api, seq)


@pytest.mark.commits
def test_reordering_two_events_is_found(app, api, attacker):
    first = attacker.last - 3
    attacker.execute("UPDATE audit_event SET seq = -1 WHERE seq = :seq", {"seq": first})
    attacker.execute("UPDATE audit_event SET seq = :first WHERE seq = :second", {"first": first, "second": first + 1})
    attacker.execute("UPDATE audit_event SET seq = :second WHERE seq = -1", {"second": first + 1})
    result = assert_tampering_found(app, api, first)
    assert "chain" in result["problem"]


@pytest.mark.commits
def test_resealing_an_edited_chain_without_the_key_is_found(app, api, attacker):
    seq = attacker.last - 3
    attacker.reseal_from(seq, "a-key-guessed-by-someone-with-only-database-access", {"reason": "Rewritten"})
    result = assert_tampering_found(app, api, seq)
    assert "seal" in result["problem"]


@pytest.mark.commits
def test_resealing_with_the_real_key_gets_past_the_seals_but_not_the_head_kept_outside_the_database(app, api,
                                                                                                    attacker):
    """The control for the test above: the forged chain links up, so only the key (or the anchor) gives it away."""
    attacker.reseal_from(attacker.last - 3, app.config["AUDIT_KEY"], {"reason": "Rewritten"})
    result = assert_tampering_found(app, api, attacker.last)
    assert result["events"] == len(attacker.rows)
    assert "recorded head" in result["problem"]


@pytest.mark.parametrize("cut", [1, 3])
@pytest.mark.commits
def test_cutting_off_the_tail_is_found_against_the_head_kept_outside_the_database(app, api, attacker, cut):
    first_cut = attacker.last - cut + 1
    attacker.execute("DELETE FROM audit_event WHERE seq >= :seq", {"seq": first_cut})
    result = assert_tampering_found(app, api, first_cut)
    assert result["events"] == first_cut - 1
    assert "missing" in result["problem"]


@pytest.mark.commits
def test_a_verify_that_finds_tampering_ends_its_read_transaction(app, attacker):
    """Run in a long-lived session (a scheduler, a shell), a failed check must not keep audit_event locked."""
    attacker.execute("DELETE FROM audit_event WHERE seq = :seq", {"seq": attacker.last - 2})
    code, _ = cli_verify(app)  # in this test's own session, as the CLI shares an app context already pushed
    assert code == 1
    assert not _db().session().in_transaction()
    if attacker.engine.dialect.name == "postgresql":
        with attacker.engine.begin() as conn:  # the repair needs this lock, as DROP/CREATE TRIGGER do
            conn.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(sa.text("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE"))


@pytest.mark.commits
def test_a_cut_off_tail_stays_found_after_the_app_writes_past_the_old_head(app, api, attacker):
    """The app going on after the cut must not move the recorded head onto the shortened chain and hide the cut."""
    old_head = attacker.last
    attacker.execute("DELETE FROM audit_event WHERE seq >= :seq", {"seq": old_head - 1})
    make_case("staff", "under_review")  # three new events: the chain grows back past the old head
    assert last_seq() == old_head + 1
    # The earliest event the app can prove wrong is the head it recorded: the chain now has another event there.
    result = assert_tampering_found(app, api, old_head)
    assert "recorded head" in result["problem"]


# --- the head file fails softly: a saved change is never answered with an error ---------------------------------

@pytest.fixture()
def unwritable_head(app, tmp_path, monkeypatch):
    """AUDIT_HEAD_PATH somewhere nobody can write (its folder is a file: root can't either), for this test."""
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setitem(app.config, "AUDIT_HEAD_PATH", str(tmp_path / "not-a-folder" / "audit-head.json"))


def test_an_unwritable_head_file_still_saves_the_concern_and_the_admin_and_verify_are_told(app, api, web,
                                                                                           unwritable_head, caplog):
    from app.models import Case
    payload = concern_payload()
    response = api("staff").post("/api/v1/case/", json=payload)
    assert response.status_code == 201, response.get_json()
    db = _db()
    saved = db.session.scalar(sa.select(Case).where(Case.id == response.get_json()["id"]))
    assert saved.description == payload["description"]
    db.session.rollback()
    assert "Audit head file" in caplog.text and "could not be written" in caplog.text

    page = web("admin").get("/outbox/").get_data(as_text=True)
    assert 'id="audit-head-problem"' in page and "could not be written" in page

    code, result = cli_verify(app)
    assert code == 1 and result["ok"] is False, result
    assert "behind the audit trail" in result["problem"] and "could not be written" in result["problem"]


def test_an_unreadable_head_file_still_saves_the_concern_and_verify_says_so(app, api, web):
    from app.kernel import audit
    path = Path(app.config["AUDIT_HEAD_PATH"])
    kept = path.read_bytes()
    path.write_text("{not json")
    assert api("staff").post("/api/v1/case/", json=concern_payload()).status_code == 201
    assert "cannot be read" in web("admin").get("/outbox/").get_data(as_text=True)
    code, result = cli_verify(app)
    assert code == 1 and "cannot be read" in result["problem"], result
    # The file put back and brought up to the chain's head (as the app would have written it), the chain verifies.
    path.write_bytes(kept)
    audit.write_anchor(dict(zip(("seq", "hash"), _db().session.execute(
        sa.text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")).one(), strict=True)))
    _db().session.rollback()
    code, result = cli_verify(app)
    assert (code, result["ok"]) == (0, True), result
