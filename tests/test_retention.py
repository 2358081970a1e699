"""Retention: with a frozen date, exactly the records due and not on hold are proposed, and after the Prevent Lead's
approval erased, leaving no trace of their personal data anywhere in the database, and the audit chain verifies.
Also: legal hold, who may do what, and the subject access export."""
from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_appbuilder import Model

from app.cases import actions
from app.cases import use_cases as cases
from app.drafts import use_cases as drafts
from app.extensions import db
from app.governance import oversight, retention
from app.governance.retention import add_years
from app.kernel import audit, audit_verify
from app.kernel.uow import unit_of_work
from app.models import AuditEvent, Case, CaseEntry, StaffMember, Subject
from tests.conftest import concern_payload, csrf_token, make_case, user
from tests.sample_files import png_with_text

TODAY = date(2026, 11, 25)  # the frozen clock every run here uses


def at(day: date) -> str:
    return datetime.combine(day, time(10), tzinfo=UTC).isoformat()


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
        # The Lead works every case here: a concern about a member of staff is restricted to the Lead. The concern
        # names someone else involved and comes with a photo, each carrying the marker too.
        self.case_id = cases.raise_concern(user("staff"), concern_payload(
            subject=subject, occurred_at=at(occurred), description=f"Said {self.marker} in class",
            location=f"Room {self.marker[:8]}",
            others_involved=[{"name": f"Witness {self.marker}", "role": f"Tutor {self.marker}",
                              "relationship": f"Teaches {self.marker}"}]),
            uploads=[(f"photo-{self.marker}.png", png_with_text(f"Taken by {self.marker}"))]).id
        cases.transition(user("lead"), self.case_id, {"event": "acknowledge", "reason": f"Read {self.marker}"})
        cases.add_note(user("lead"), self.case_id, {"kind": "note", "text": f"Spoke to tutor about {self.marker}"})
        actions.add_action(user("lead"), self.case_id, {"title": f"Ring {self.marker}", "owner_id": user("lead").id,
                                                "due_date": (date.today() + timedelta(days=3)).isoformat()})
        oversight.record_review(user("lead"), self.case_id, {"note": f"Review of {self.marker}"})
        # The Lead's unsent words on the case (a draft of a note): erased with the case's other text.
        drafts.keep(user("lead").id, f"case:{self.case_id}:note", "test", {"text": f"Unsent about {self.marker}"})
        if state == "closed":
            cases.transition(user("lead"), self.case_id, {"event": "close", "outcome": "no_further_action",
                                                             "reason": f"Nothing further for {self.marker}"})
        self.subject_id = db.session.get(Case, self.case_id).subject_id
        if closed_on:  # the case closed on that day: the chronology is the record of when
            with unit_of_work() as session:
                closing = session.scalars(sa.select(CaseEntry).where(CaseEntry.case_id == self.case_id,
                                                                     CaseEntry.to_status == "closed")).all()
                for entry in closing:
                    entry.at = datetime.combine(closed_on, time(12), tzinfo=UTC)
                audit.record(session, "test:setup", "backdate_closure", session.get(Case, self.case_id))
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
    for table in Model.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            if marker in repr(tuple(row)):
                found.append(table.name)
    db.session.rollback()
    return found


# Its records are made once per module, in a transaction of the module's rolled back after its last test (each test
# runs in a SAVEPOINT inside it, rolled back too), and counted: one worker runs the module whole (make test
# distributes by xdist_group), so that they are made once per run.
pytestmark = pytest.mark.xdist_group("test_retention")


@pytest.fixture(scope="module")
def people(app, module_transaction):
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


def board_figures() -> tuple:
    from app.governance.reports import board_report
    report = board_report(db.session, user("lead"), date(2000, 1, 1), date.today())
    figures = (report.concerns, report.by_type, report.by_subject_type, report.by_programme, report.outcomes)
    db.session.rollback()
    return figures


def chain_ok() -> bool:
    return audit_verify.verify(db.session).ok


def records_that_differ() -> list[str]:
    """What `flask audit verify --records` names."""
    return audit_verify.verify(db.session, records=True).records.findings


def test_the_rules_give_each_kind_of_subject_its_date(ctx, people):
    subjects = [db.session.get(Subject, p.subject_id) for p in people.values()]
    dates = {name: r for name, r in zip(people, retention._retentions(db.session, subjects).values(), strict=True)}
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
    # batch=2: the run judges people a few at a time, as it does thousands at a time at scale
    assert chain_ok()
    differ = records_that_differ()
    first = retention.run(TODAY, batch=2)
    assert mine(people, [i.subject_id for i in first.proposed]) == DUE
    assert mine(people, [i.subject_id for i in first.awaiting]) == DUE
    assert not mine(people, [i.subject_id for i in first.erased])
    item = next(i for i in first.awaiting if i.subject_id == people["child_due"].subject_id)
    assert item.references == [db.session.get(Case, people["child_due"].case_id).reference]
    assert people["child_due"].marker not in str(first)  # the list the Lead approves holds no content
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert mine(people, [i.subject_id for i in retention.run(TODAY, batch=2).proposed]) == set()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events, "a re-run is a no-op"

    # Nothing is erased until the Lead approves.
    for person in people.values():
        assert rows_mentioning(person.marker), person.label
    retention.approve(user("lead"), {"subject_ids": [people[name].subject_id for name in DUE],
                                     "reason": "Past the retention period in the policy"})
    figures = board_figures()
    erased = retention.run(TODAY, batch=2)
    assert board_figures() == figures, "the Board report still counts erased cases"
    assert mine(people, [i.subject_id for i in erased.erased]) == DUE
    for name, person in people.items():
        if name in DUE:
            assert rows_mentioning(person.marker) == [], name
            subject = db.session.get(Subject, person.subject_id)
            assert subject.erased_at is not None and subject.date_of_birth is None
            case = db.session.get(Case, person.case_id)
            assert (case.status.value, case.closure_outcome.value) == ("closed", "no_further_action")
        else:
            assert {"subject", "prevent_case", "case_entry", "case_action", "case_review", "audit_event",
                    "draft"} <= set(rows_mentioning(person.marker)), name
    assert chain_ok()
    assert records_that_differ() == differ, "the erasure's tombstone seals every record it blanked"

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
    again = retention.run(TODAY, batch=2)
    assert not again.erased and not mine(people, [i.subject_id for i in again.proposed])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    db.session.rollback()
    assert chain_ok()


@pytest.mark.commits  # an attacker's connection of its own, in a database of the test's own
def test_emptying_an_audit_event_without_an_erasure_is_found(app, ctx, raw_engine):
    """The database lets retention empty an event's content; verify() tells that apart from an attacker doing so."""
    case_id = make_case("staff", "under_review")
    seq = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)).where(AuditEvent.case_id == case_id))
    db.session.rollback()
    with raw_engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_event SET reason = NULL, changes = NULL WHERE seq = :s"), {"s": seq})
    result = audit_verify.verify(db.session)
    assert (result.ok, result.first_bad_seq) == (False, seq)


# --- legal hold, approval and who may do them -----------------------------------------------------------------

def test_a_hold_withdraws_a_pending_proposal_and_a_held_subject_is_never_proposed(app, ctx):
    dob = add_years(TODAY, -30)
    person = Person("hold_later", date_of_birth=dob, occurred=add_years(dob, 16))
    first = retention.run(TODAY)
    assert person.subject_id in [i.subject_id for i in first.proposed]
    retention.approve(user("lead"), {"subject_ids": [person.subject_id], "reason": "Due"})
    retention.set_legal_hold(user("lead"), person.subject_id, {"hold": "yes", "reason": "Police request"})
    later = retention.run(TODAY)
    assert person.subject_id not in [i.subject_id for i in later.erased + later.proposed + later.awaiting]
    assert rows_mentioning(person.marker)
    retention.set_legal_hold(user("lead"), person.subject_id, {"hold": False, "reason": "Request withdrawn"})
    assert person.subject_id in [i.subject_id for i in retention.run(TODAY).proposed], "due again once released"
    events = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "Subject", AuditEvent.entity_id == str(person.subject_id))
        .order_by(AuditEvent.seq)).all()
    assert events[-5:] == ["retention_proposed", "retention_approved", "legal_hold_set", "legal_hold_cleared",
                           "retention_proposed"]
    db.session.rollback()


@pytest.mark.parametrize("username", ["staff", "officer", "director", "governance", "admin"])
def test_only_the_prevent_lead_approves_holds_and_exports(api, username, people):
    client = api(username)
    subject_id = people["child_not_due"].subject_id
    assert client.post("/api/v1/retention/approve", json={"subject_ids": [subject_id], "reason": "x"}
                       ).status_code == 403
    assert client.put(f"/api/v1/subject/{subject_id}/legal_hold", json={"hold": True, "reason": "x"}
                      ).status_code == 403
    response = client.get(f"/api/v1/subject/{subject_id}/access_export?format=json")
    assert response.status_code == 403 and people["child_not_due"].marker not in response.get_data(as_text=True)
    assert client.get("/api/v1/retention/").status_code == 403


def test_approving_what_is_not_awaiting_approval_is_refused_and_changes_nothing(api, people):
    lead = api("lead")
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    db.session.rollback()
    response = lead.post("/api/v1/retention/approve", json={"subject_ids": [people["child_not_due"].subject_id],
                                                            "reason": "Tidy up"})
    assert response.status_code == 409
    assert lead.post("/api/v1/retention/approve", json={"subject_ids": "all", "reason": "x"}).status_code == 422
    assert lead.put(f"/api/v1/subject/{people['child_not_due'].subject_id}/legal_hold",
                    json={"hold": "maybe"}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events


def test_the_lead_approves_on_the_page_from_the_list_of_references(web, app):
    with app.app_context():
        dob = add_years(TODAY, -40)
        person = Person("page", date_of_birth=dob, occurred=add_years(dob, 17))
        retention.run(TODAY)
        reference = db.session.get(Case, person.case_id).reference
        db.session.remove()
    lead = web("lead")
    page = lead.get("/retention/").get_data(as_text=True)
    assert reference in page and person.marker not in page
    response = lead.post("/retention/approve", data={"subject_ids": [str(person.subject_id)], "reason": "Due",
                                                     "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    refused = lead.post("/retention/approve", data={"reason": "", "csrf_token": csrf_token(page)})
    assert refused.status_code == 422 and "Choose at least one record" in refused.get_data(as_text=True)
    with app.app_context():
        assert person.subject_id in [i.subject_id for i in retention.run(TODAY).erased]
        assert rows_mentioning(person.marker) == []
        assert chain_ok()


# --- the subject access export ----------------------------------------------------------------------------------

def test_the_subject_access_export_holds_everything_about_the_subject_and_nothing_about_anyone_else(api, people):
    person, other = people["child_not_due"], people["adult_not_due"]
    response = api("lead").get(f"/api/v1/subject/{person.subject_id}/access_export?format=json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    record = json.loads(text)
    assert record["subject"]["full_name"] == f"Person {person.marker}"
    assert record["subject"]["date_of_birth"] == db.session.get(Subject, person.subject_id).date_of_birth.isoformat()
    [case] = record["cases"]
    assert case["description"] == f"Said {person.marker} in class"
    summaries = " ".join(f"{i['summary']} {i['reason']}" for i in case["chronology"])
    assert f"Spoke to tutor about {person.marker}" in summaries and f"Read {person.marker}" in summaries
    assert [a["title"] for a in case["actions"]] == [f"Ring {person.marker}"]
    assert [r["note"] for r in case["reviews"]] == [f"Review of {person.marker}"]
    assert [a["filename"] for a in case["attachments"]] == [f"photo-{person.marker}.png"]
    assert case["others_involved"] == [{"name": f"Witness {person.marker}", "role": f"Tutor {person.marker}",
                                        "relationship": f"Teaches {person.marker}"}]
    assert {"create_subject", "raise_concern", "acknowledge", "add_note", "add_action", "lead_review"} <= \
        {ev["action"] for ev in record["audit_events"]}
    assert record["emails"], "the emails the case caused"
    assert other.marker not in text

    pdf = api("lead").get(f"/api/v1/subject/{person.subject_id}/access_export?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from pypdf import PdfReader
    read = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert f"Said {person.marker} in class" in read.replace("\n", " ")
    assert f"Witness {person.marker}" in read.replace("\n", " ")
    assert other.marker not in read

    exported = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "subject_access_export", AuditEvent.entity_id == str(person.subject_id))
        .order_by(AuditEvent.seq)).all()
    assert [(ev.actor, ev.changes["format"]["new"]) for ev in exported[-2:]] == [("lead", "json"), ("lead", "pdf")]
    from app.models import AccessLogEntry
    logged = db.session.scalars(sa.select(AccessLogEntry.what).where(AccessLogEntry.case_id == person.case_id)).all()
    assert {"subject_access_json", "subject_access_pdf"} <= set(logged)
    assert api("lead").get(f"/api/v1/subject/{person.subject_id}/access_export?format=doc").status_code == 422
    assert api("lead").get("/api/v1/subject/987654321/access_export?format=json").status_code == 404


def test_flask_retention_run_takes_a_frozen_date_and_lists_what_awaits_approval(app, ctx):
    dob = add_years(TODAY, -26)
    person = Person("cli", date_of_birth=dob, occurred=add_years(dob, 16))
    reference = db.session.get(Case, person.case_id).reference
    db.session.remove()
    runner = app.test_cli_runner()
    early = runner.invoke(args=["retention", "run", "--today", (add_years(dob, 25) - timedelta(days=1)).isoformat()])
    assert early.exit_code == 0 and reference not in early.output
    due = runner.invoke(args=["retention", "run", "--today", TODAY.isoformat()])
    assert due.exit_code == 0, due.output
    assert "Checked" in due.stderr and "people's records" in due.stderr  # progress, apart from the report
    assert f"awaiting approval: subject {person.subject_id} ({reference}), {retention.CHILD}" in due.output
    assert person.marker not in due.output
    assert runner.invoke(args=["retention", "run", "--today", "25/11/2026"]).exit_code != 0


def test_the_lead_links_a_staff_subject_to_the_staff_list_whose_leaving_date_starts_the_period(api, ctx):
    from app.training import use_cases as training
    person = Person("staff_link", "staff")
    email = f"left-{person.marker}@example.org"
    training.add_staff(user("lead"), {"full_name": "Former Colleague", "email": email,
                                      "left_on": add_years(TODAY, -11).isoformat()})
    url = f"/api/v1/subject/{person.subject_id}/staff_record"
    assert api("officer").put(url, json={"staff": email}).status_code == 403
    assert api("lead").put(url, json={"staff": "nobody@example.org"}).status_code == 422
    assert api("lead").put(url, json={"staff": email.upper()}).status_code == 200
    assert api("lead").put(url, json={"staff": email}).status_code == 409
    learner = Person("not_staff")
    assert api("lead").put(f"/api/v1/subject/{learner.subject_id}/staff_record",
                           json={"staff": email}).status_code == 409
    report = retention.run(TODAY)
    item = next(i for i in report.proposed if i.subject_id == person.subject_id)
    assert (item.rule, item.due_on) == (retention.STAFF, add_years(TODAY, -1))
    db.session.rollback()


def test_ids_too_large_for_the_database_are_answered_plainly(api):
    huge = 2**31
    lead = api("lead")
    assert lead.get(f"/api/v1/subject/{huge}/access_export?format=json").status_code == 404
    assert lead.put(f"/api/v1/subject/{huge}/legal_hold", json={"hold": True, "reason": "x"}).status_code == 404
    assert lead.put(f"/api/v1/subject/{huge}/staff_record", json={"staff": "x@example.org"}).status_code == 404
    assert lead.post("/api/v1/retention/approve", json={"subject_ids": [huge, 2**70], "reason": "x"}
                     ).status_code == 422
