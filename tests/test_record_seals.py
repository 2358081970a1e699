"""Records sealed too: `flask audit verify --records` finds a case, chronology entry, action, access grant or access
log entry changed, deleted or added in the database behind the app's back (issue 10, finding 7).

The attacker here has database access only (no AUDIT_KEY): they change rows through a connection of their own, so
these tests are marked `commits` and each has a database of its own.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from migrations import frozen
from tests.conftest import make_case, user


def verify_records(app) -> tuple[int, list[str], dict]:
    """Runs `flask audit verify --records`: its exit code, the records it names, and its summary."""
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--records"])
    *findings, summary = result.stdout.strip().splitlines()
    return result.exit_code, findings, json.loads(summary)


@pytest.fixture()
def baseline(app, ctx) -> list[str]:
    """What verify --records names before the test: nothing, as each test starts from the database set-up left."""
    code, findings, summary = verify_records(app)
    assert summary["events"] > 0 and (code == 0) == (findings == []), summary
    assert findings == [], summary
    return findings


def assert_as_before(app, baseline: list[str]) -> None:
    code, findings, summary = verify_records(app)
    assert findings == baseline, summary
    assert summary["records"]["checked"] > 0 and summary["records"]["differ"] == len(baseline)


def assert_found(app, baseline: list[str], *named: str) -> None:
    code, findings, summary = verify_records(app)
    assert code == 1 and summary["ok"] is False, summary
    assert [f for f in findings if f not in baseline] == list(named)


def restricted_case() -> int:
    """A concern about a colleague, taken through the use cases that write every kind of sealed record."""
    from app.cases import access, actions
    from app.cases import use_cases as cases
    case_id = make_case("staff", subject={"full_name": "Colleague Sealed", "subject_type": "staff"})
    lead, officer = user("lead"), user("officer")
    access.grant_access(lead, case_id, {"user_id": officer.id, "reason": "Needs to know"})
    cases.transition(officer, case_id, {"event": "acknowledge", "reason": "Looking into it"})
    action = actions.add_action(officer, case_id, {"title": "Speak to the manager", "owner_id": officer.id,
                                                   "due_date": "2030-01-01"})
    actions.update_action(officer, action.id, {"status": "done", "completion_note": "Spoken to"})
    cases.add_note(officer, case_id, {"kind": "advice_sought", "text": "Asked the police Prevent team"})
    access.revoke_access(lead, case_id, officer.id, {"reason": "No longer needed"})
    return case_id


def test_the_app_s_own_use_cases_leave_every_record_as_sealed(app, baseline, api, web):
    checked = verify_records(app)[2]["records"]["checked"]
    case_id = restricted_case()
    make_case("staff", "closed")
    assert api("lead").get(f"/api/v1/case/{case_id}").status_code == 200
    assert web("lead").get(f"/cases/{case_id}").status_code == 200
    assert_as_before(app, baseline)
    assert verify_records(app)[2]["records"]["checked"] > checked


@pytest.mark.commits
def test_a_case_description_changed_in_the_database_is_named(app, baseline, raw_engine):
    case_id = make_case("staff", "under_review")
    with raw_engine.begin() as conn:
        kept = conn.execute(sa.text("SELECT description FROM prevent_case WHERE id = :id"), {"id": case_id}).scalar()
        conn.execute(sa.text("UPDATE prevent_case SET description = 'Nothing to worry about' WHERE id = :id"),
                     {"id": case_id})
    assert_found(app, baseline, f"case {case_id}: changed since its last audited change")
    with raw_engine.begin() as conn:  # put back as it was, it is found no more
        conn.execute(sa.text("UPDATE prevent_case SET description = :kept WHERE id = :id"),
                     {"kept": kept, "id": case_id})
    assert_as_before(app, baseline)


@pytest.mark.commits
def test_a_chronology_reason_changed_in_the_database_is_named(app, baseline, raw_engine):
    case_id = make_case("staff", "closed")
    with raw_engine.begin() as conn:
        entry_id, kept = conn.execute(sa.text(
            "SELECT id, reason FROM case_entry WHERE case_id = :id AND kind = 'transition' ORDER BY id DESC"),
            {"id": case_id}).first()
        conn.execute(sa.text("UPDATE case_entry SET reason = 'Closed at the family''s request' WHERE id = :id"),
                     {"id": entry_id})
    assert_found(app, baseline, f"chronology entry {entry_id}: changed since its last audited change")
    with raw_engine.begin() as conn:  # put back as it was, it is found no more
        conn.execute(sa.text("UPDATE case_entry SET reason = :kept WHERE id = :id"), {"kept": kept, "id": entry_id})
    assert_as_before(app, baseline)


@pytest.mark.commits
def test_an_action_deleted_in_the_database_is_named(app, baseline, raw_engine):
    from app.cases import actions
    from app.models import CaseAction
    case_id = make_case("staff", "under_review")
    action = actions.add_action(user("officer"), case_id, {"title": "Call the employer", "owner_id": user("officer").id,
                                                           "due_date": "2030-01-01"})
    table = CaseAction.__table__
    with raw_engine.begin() as conn:
        kept = dict(conn.execute(sa.select(table).where(table.c.id == action.id)).mappings().one())
        conn.execute(table.delete().where(table.c.id == action.id))
    assert_found(app, baseline, f"action {action.id}: gone, though no audited change deleted it")
    with raw_engine.begin() as conn:  # put back as it was, it is found no more
        conn.execute(table.insert(), kept)
    assert_as_before(app, baseline)


@pytest.mark.commits
def test_an_access_grant_inserted_in_the_database_is_named(app, baseline, raw_engine):
    from app.models import CaseAccessGrant
    case_id = make_case("staff", subject={"full_name": "Colleague Granted", "subject_type": "staff"})
    officer = user("officer2")
    table = CaseAccessGrant.__table__
    with raw_engine.begin() as conn:
        conn.execute(table.insert().values(case_id=case_id, user_id=officer.id, granted_by_id=user("lead").id,
                                           granted_at=sa.func.current_timestamp()))
    assert_found(app, baseline,
                 f"access grant {case_id}/{officer.id}: no audit event seals it (added behind the app's back)")
    with raw_engine.begin() as conn:  # taken out again, it is found no more
        conn.execute(table.delete().where(table.c.case_id == case_id, table.c.user_id == officer.id))
    assert_as_before(app, baseline)


@pytest.mark.commits
def test_records_from_before_sealing_are_sealed_once_after_upgrading(app, baseline, raw_engine):
    """A record the app wrote before records were sealed has no seal, as one added behind its back has none:
    `flask audit seal-existing`, run once after upgrading, seals it as it is."""
    from app.cases import access
    from app.models import CaseAccessGrant
    case_id = make_case("staff", subject={"full_name": "Colleague Before", "subject_type": "staff"})
    officer = user("officer2")
    with raw_engine.begin() as conn:
        conn.execute(CaseAccessGrant.__table__.insert().values(
            case_id=case_id, user_id=officer.id, granted_by_id=user("lead").id, granted_at=sa.func.current_timestamp()))
    assert_found(app, baseline,
                 f"access grant {case_id}/{officer.id}: no audit event seals it (added behind the app's back)")
    result = app.test_cli_runner().invoke(args=["audit", "seal-existing"])
    assert result.exit_code == 0 and result.stdout.startswith("Sealed "), result.output
    _, findings, _ = verify_records(app)
    assert [f for f in findings if f not in baseline] == []
    access.revoke_access(user("lead"), case_id, officer.id, {"reason": "Not needed"})
    assert_as_before(app, [f for f in baseline if "no audit event seals it" not in f])


@pytest.fixture()
def access_log(app, baseline, web, raw_engine):
    """A few entries in the access log, its triggers dropped for the test (in the test's own database)."""
    from app.models import AccessLogEntry
    case_id = make_case("staff", "under_review")
    for _ in range(3):
        assert web("officer").get(f"/cases/{case_id}").status_code == 200
    table = AccessLogEntry.__table__
    with raw_engine.begin() as conn:
        frozen.drop_append_only_triggers(conn, "access_log")
    return table


@pytest.mark.commits
def test_the_access_log_wiped_in_the_database_is_found(app, baseline, access_log, raw_engine):
    with raw_engine.begin() as conn:
        chained = conn.execute(sa.select(sa.func.count()).select_from(access_log)).scalar()
        conn.execute(access_log.delete())
    assert_found(app, baseline, f"access log: its last {chained} entries are gone")


@pytest.mark.commits
def test_an_access_log_entry_edited_or_removed_in_the_database_is_named(app, baseline, access_log, raw_engine):
    with raw_engine.begin() as conn:
        last, before_last = conn.execute(sa.select(access_log.c.id, access_log.c.seq)
                                         .order_by(access_log.c.seq.desc()).limit(2)).all()
        conn.execute(access_log.update().where(access_log.c.id == last.id).values(user_id=user("admin").id))
        conn.execute(access_log.delete().where(access_log.c.id == before_last.id))
    assert_found(app, baseline, f"access log: entries {before_last.seq} to {before_last.seq} of its chain are gone",
                 f"access log entry {last.id}: changed since it was logged")


def test_events_written_before_records_were_sealed_still_verify(app, ctx):
    """Their signed content has no seals at all, as before: an event without them is signed exactly as then."""
    from app.kernel import audit
    from app.models import AuditEvent
    make_case("staff")
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    content = json.loads(audit._signed_content(event))
    assert "seals" in content
    event.seals = None
    assert "seals" not in json.loads(audit._signed_content(event))
    db.session.rollback()
