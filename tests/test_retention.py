"""Retention: with a frozen date, exactly the records due and not on hold are proposed, and after the Prevent Lead's
approval erased, leaving no trace of their personal data anywhere in the database, and the audit chain verifies.
Also: legal hold, who may do what, and the subject access export."""
from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_appbuilder import Model

from app import audit
from app.extensions import db
from app.models import AuditEvent, Case, CaseEntry, StaffMember, Subject
from app.services import actions, cases, oversight, retention
from app.services.retention import add_years
from app.services.uow import unit_of_work
from tests.conftest import concern_payload, csrf_token, make_case, user

TODAY = date(2026, 11, 25)  # the frozen clock every run here uses


def at(day: date) -> str:
    return datetime.combine(day, time(10), tzinfo=timezone.utc).isoformat()


class Person:
    """One subject with one case, every free-text field of which carries `marker`."""

    def __init__(self, label: str, subject_type: str = "learner", date_of_birth: date | None = None,
                 occurred: date = date(2015, 3, 1), state: str = "closed", closed_on: date | None = None,
                 left_on: date | None = None):
        self.label, self.marker = label, f"M{uuid.uuid4().hex}"
        subject = {"full_name": f"Person {self.marker}", "subject_type": subject_type,
                   "learner_ref": f"L{self.marker[:12]}"}
        if date_of_birth:
            subject["date_of_birth"] = date_of_birth.isoformat()
        # The Lead works every case here: a concern about a member of staff is restricted to the Lead.
        self.case_id = cases.raise_concern(user("staff"), concern_payload(
            subject=subject, occurred_at=at(occurred), description=f"Said {self.marker} in class",
            location=f"Room {self.marker[:8]}")).id
        cases.transition(user("lead"), self.case_id, {"event": "acknowledge", "reason": f"Read {self.marker}"})
        cases.add_note(user("lead"), self.case_id, {"kind": "note", "text": f"Spoke to tutor about {self.marker}"})
        actions.add_action(user("lead"), self.case_id, {"title": f"Ring {self.marker}", "owner_id": user("lead").id,
                                                "due_date": (date.today() + timedelta(days=3)).isoformat()})
        oversight.record_review(user("lead"), self.case_id, {"note": f"Review of {self.marker}"})
        if state == "closed":
            cases.transition(user("lead"), self.case_id, {"event": "close", "outcome": "no_further_action",
                                                             "reason": f"Nothing further for {self.marker}"})
        self.subject_id = db.session.get(Case, self.case_id).subject_id
        if closed_on:  # the case closed on that day: the chronology is the record of when
            db.session.execute(sa.update(CaseEntry).where(CaseEntry.case_id == self.case_id,
                                                          CaseEntry.to_status == "closed")
                               .values(at=datetime.combine(closed_on, time(12), tzinfo=timezone.utc)))
            db.session.commit()
        if left_on:
            with unit_of_work() as session:
                # The staff (training) record is the employer's, with its own retention: erasure unlinks it, and
                # it holds nothing of the concern.
                staff = StaffMember(full_name=f"Former colleague {uuid.uuid4().hex}", left_on=left_on, active=False)
                session.add(staff)
                session.flush()
                audit.record(session, "test:setup", "add_staff_member", staff)
                person = session.get(Subject, self.subject_id)
                person.staff_member_id = staff.id
                audit.record(session, "test:setup", "link_staff_member", person)


def rows_mentioning(marker: str) -> list[str]:
    """Every row of every table whose text holds `marker`, as table names."""
    found = []
    with db.engine.connect() as conn:
        for table in Model.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                if marker in repr(tuple(row)):
                    found.append(table.name)
    return found


@pytest.fixture(scope="module")
def people(app):
    with app.app_context():
        dob_due = add_years(TODAY, -25) - timedelta(days=1)  # 25th birthday was yesterday
        dob_not_due = add_years(TODAY, -25) + timedelta(days=1)  # tomorrow
        years = app.config["RETENTION_OTHER_YEARS"]
        made = {
            "child_due": Person("child_due", date_of_birth=dob_due, occurred=add_years(dob_due, 16)),
            "child_not_due": Person("child_not_due", date_of_birth=dob_not_due, occurred=add_years(dob_not_due, 16)),
            "sub_learner_due": Person("sub_learner_due", "subcontractor_learner", date_of_birth=dob_due,
                                      occurred=add_years(dob_due, 17)),
            "staff_due": Person("staff_due", "staff", left_on=add_years(TODAY, -10)),
            "staff_not_due": Person("staff_not_due", "staff", left_on=add_years(TODAY, -9)),
            "staff_not_left": Person("staff_not_left", "staff"),
            "adult_due": Person("adult_due", "public", closed_on=add_years(TODAY, -years) - timedelta(days=1)),
            "adult_not_due": Person("adult_not_due", "public", closed_on=add_years(TODAY, -years) + timedelta(days=1)),
            # A learner of 18 at the concern is an adult: the child rule does not apply, the setting does.
            "learner_adult_not_due": Person("learner_adult_not_due", date_of_birth=dob_due,
                                            occurred=add_years(dob_due, 19), closed_on=TODAY - timedelta(days=30)),
            "held": Person("held", date_of_birth=dob_due, occurred=add_years(dob_due, 15)),
            "open_case": Person("open_case", date_of_birth=dob_due, occurred=add_years(dob_due, 15), state="open"),
        }
        retention.set_legal_hold(user("lead"), made["held"].subject_id,
                                 {"hold": True, "reason": "Civil claim pending"})
        db.session.remove()
    return made


DUE = {"child_due", "sub_learner_due", "staff_due", "adult_due"}


def mine(people, subject_ids) -> set[str]:
    by_id = {p.subject_id: name for name, p in people.items()}
    return {by_id[i] for i in subject_ids if i in by_id}


@pytest.fixture(scope="module")
def raw_engine(app):
    """A connection pool of its own, as someone with database access but not the app would have."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    yield engine
    engine.dispose()


def chain_ok() -> bool:
    return audit.verify(db.session).ok


def test_the_rules_give_each_kind_of_subject_its_date(ctx, people):
    subjects = [db.session.get(Subject, p.subject_id) for p in people.values()]
    dates = {name: r for name, r in zip(people, retention._retentions(db.session, subjects).values())}
    assert dates["child_due"].rule == retention.CHILD
    assert dates["child_due"].due_on == TODAY - timedelta(days=1)
    assert dates["child_not_due"].due_on == TODAY + timedelta(days=1)
    assert (dates["staff_due"].rule, dates["staff_due"].due_on) == (retention.STAFF, TODAY)
    assert dates["staff_not_left"].due_on is None
    assert dates["adult_due"].rule == retention.OTHER
    assert dates["learner_adult_not_due"].rule == retention.OTHER
    assert dates["held"].why_not == "on legal hold"
    assert dates["open_case"].why_not == "a case is open"


def test_run_proposes_exactly_what_is_due_and_not_held_then_erases_what_the_lead_approved(app, ctx, people):
    assert chain_ok()
    first = retention.run(TODAY)
    assert mine(people, [i.subject_id for i in first.proposed]) == DUE
    assert mine(people, [i.subject_id for i in first.awaiting]) == DUE
    assert not mine(people, [i.subject_id for i in first.erased])
    item = next(i for i in first.awaiting if i.subject_id == people["child_due"].subject_id)
    assert item.references == [db.session.get(Case, people["child_due"].case_id).reference]
    assert people["child_due"].marker not in str(first)  # the list the Lead approves holds no content
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert mine(people, [i.subject_id for i in retention.run(TODAY).proposed]) == set()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events, "a re-run is a no-op"

    # Nothing is erased until the Lead approves.
    for person in people.values():
        assert rows_mentioning(person.marker), person.label
    retention.approve(user("lead"), {"subject_ids": [people[name].subject_id for name in DUE],
                                     "reason": "Past the retention period in the policy"})
    erased = retention.run(TODAY)
    assert mine(people, [i.subject_id for i in erased.erased]) == DUE
    for name, person in people.items():
        if name in DUE:
            assert rows_mentioning(person.marker) == [], name
            subject = db.session.get(Subject, person.subject_id)
            assert subject.erased_at is not None and subject.date_of_birth is None
            case = db.session.get(Case, person.case_id)
            assert (case.status.value, case.closure_outcome.value) == ("closed", "no_further_action")
        else:
            assert {"subject", "prevent_case", "case_entry", "case_action", "case_review", "audit_event"} <= \
                set(rows_mentioning(person.marker)), name
    assert chain_ok()

    tombstone = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == audit.ERASURE, AuditEvent.entity_id == str(people["child_due"].subject_id)))
    assert tombstone.actor == retention.SYSTEM and tombstone.reason is None
    assert tombstone.changes["cases"]["new"] == item.references
    assert tombstone.changes["rule"]["new"] == retention.CHILD
    assert tombstone.changes["approved_by"]["new"] == "lead"
    assert set(tombstone.changes) == {"cases", "rule", "due_on", "approved_by", "approved_at", "erased_at",
                                      audit.ERASED_EVENTS}
    # The case's earlier events are still in the chain, emptied.
    emptied = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == people["child_due"].case_id)).all()
    assert emptied and all(ev.reason is None and ev.changes is None for ev in emptied)

    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    again = retention.run(TODAY)
    assert not again.erased and not mine(people, [i.subject_id for i in again.proposed])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    db.session.rollback()
    assert chain_ok()


def test_emptying_an_audit_event_without_an_erasure_is_found(app, ctx, raw_engine):
    """The database lets retention empty an event's content; verify() tells that apart from an attacker doing so."""
    case_id = make_case("staff", "under_review")
    seq = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)).where(AuditEvent.case_id == case_id))
    db.session.rollback()
    with raw_engine.begin() as conn:
        row = conn.execute(sa.text("SELECT reason, changes FROM audit_event WHERE seq = :s"), {"s": seq}).first()
        conn.execute(sa.text("UPDATE audit_event SET reason = NULL, changes = NULL WHERE seq = :s"), {"s": seq})
    try:
        result = audit.verify(db.session)
        assert (result.ok, result.first_bad_seq) == (False, seq)
    finally:
        from tests.test_audit import _append_only_migration
        migration = _append_only_migration()
        with raw_engine.begin() as conn:
            migration.drop_triggers(conn)
            conn.execute(AuditEvent.__table__.update().where(AuditEvent.__table__.c.seq == seq)
                         .values(reason=row.reason, changes=json.loads(row.changes) if isinstance(row.changes, str)
                                 else row.changes))
            migration.create_triggers(conn)
    assert chain_ok()
