"""The Prevent Lead's oversight: the access log, the unusual-access flag, periodic reviews and the dashboard."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.cases import actions
from app.cases import use_cases as cases
from app.extensions import db
from app.governance import oversight
from app.kernel.errors import Forbidden, NotFound
from app.models import AccessAlert, AccessLogEntry, AuditEvent, CaseReview, OutboxEmail
from tests.conftest import PASSWORD, csrf_token, make_case, user


def fresh_officer(app, username: str):
    sm = app.appbuilder.sm
    return sm.find_user(username) or sm.add_user(username, "Third", "Officer", f"{username}@example.org",
                                                 sm.find_role("Safeguarding Officer"), PASSWORD)


def log_of(case_id: int) -> list[tuple[str, str, str, bool]]:
    db.session.expire_all()
    entries = db.session.scalars(sa.select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
                                 .order_by(AccessLogEntry.id)).all()
    return [(e.user.username, e.channel, e.what, e.outside_own_work) for e in entries]


def test_opening_a_case_by_page_or_api_leaves_an_entry_the_lead_can_read(web, api, ctx):
    case_id = make_case("staff", state="under_review")  # "officer" acknowledged it: their own work
    web("officer").get(f"/cases/{case_id}")
    api("officer2").get(f"/api/v1/case/{case_id}")
    api("officer2").get(f"/api/v1/case/{case_id}/chronology")
    web("staff").get(f"/cases/{case_id}")  # the reporter's own receipt
    assert log_of(case_id) == [("officer", "page", "case", False), ("officer2", "api", "case", True),
                               ("officer2", "api", "chronology", True), ("staff", "page", "case", False)]

    seen = api("lead").get(f"/api/v1/case/{case_id}/access_log").get_json()["result"]
    assert [(e["user"], e["what"]) for e in seen][:4] == [("staff", "case"), ("officer2", "chronology"),
                                                          ("officer2", "case"), ("officer", "case")]
    page = web("lead").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Who has seen this" in page and "(outside own work)" in page
    assert api("officer").get(f"/api/v1/case/{case_id}/access_log").status_code == 403
    across = api("lead").get(f"/api/v1/access_log/?q=(user_id:{user('officer2').id},outside_own_work:true)")
    assert {e["case_id"] for e in across.get_json()["result"]} >= {case_id}


def test_a_refused_look_at_a_case_is_not_logged_as_seen(api, ctx):
    case_id = make_case("staff")
    assert api("staff2").get(f"/api/v1/case/{case_id}").status_code == 404
    assert log_of(case_id) == []


def test_reading_a_case_through_the_services_logs_it_whoever_the_caller_is(ctx):
    case_id = make_case("staff", state="under_review")  # "officer" acknowledged it: their own work
    assert cases.read_case(user("officer2"), case_id, "page").case.id == case_id
    assert cases.read_chronology(user("officer"), case_id, "api")
    assert cases.read_audit_trail(user("lead"), case_id, "api")
    assert cases.read_case(user("lead"), case_id, "page", what="review").case.id == case_id
    with pytest.raises(Forbidden):
        cases.read_audit_trail(user("officer"), case_id, "api")  # refused: not seen, not logged
    with pytest.raises(NotFound):
        cases.read_chronology(user("staff"), case_id, "api")  # the reporter sees their receipt, not the chronology
    assert log_of(case_id) == [("officer2", "page", "case", True), ("officer", "api", "chronology", False),
                               ("lead", "api", "audit", True), ("lead", "page", "review", True)]


@pytest.mark.commits  # the database itself refuses, to a connection of its own
def test_the_access_log_is_append_only_in_the_database(ctx):
    case_id = make_case("staff")
    cases.read_case(user("officer"), case_id, "page")
    with db.engine.connect() as connection, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        connection.execute(sa.text("UPDATE access_log SET outside_own_work = false"))
    with db.engine.connect() as connection, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        connection.execute(sa.text("DELETE FROM access_log"))


def test_many_cases_opened_outside_own_work_in_a_short_time_are_flagged_to_the_lead(app, api, ctx):
    app.config["UNUSUAL_ACCESS_CASES"] = 3
    try:
        own = make_case("staff")
        officer3 = fresh_officer(app, "officer3")
        actions.add_action(user("lead"), own, {"title": "Look", "owner_id": officer3.id,
                                               "due_date": date.today().isoformat()})
        others = [make_case("staff2") for _ in range(3)]
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AccessAlert))
        officer2 = api("officer3")  # a user with no earlier opens in this window from other tests
        for _ in range(3):
            officer2.get(f"/api/v1/case/{own}")  # their own work: never counts
        for case_id in others[:2]:
            officer2.get(f"/api/v1/case/{case_id}")
            officer2.get(f"/api/v1/case/{case_id}")  # the same case twice counts once
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessAlert)) == before
        officer2.get(f"/api/v1/case/{others[2]}")
        officer2.get(f"/api/v1/case/{others[0]}")  # one flag per window, not one per open
        alerts = db.session.scalars(sa.select(AccessAlert).order_by(AccessAlert.id.desc())).all()
        assert len(alerts) == before + 1 and alerts[0].user_id == officer3.id
        assert alerts[0].cases_opened == 3
        email = db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.kind == "unusual_access")
                                   .order_by(OutboxEmail.id.desc())).first()
        assert email.recipient_id == user("lead").id and email.urgent
        assert "officer3" not in email.body
        page = api("lead").client.get("/oversight/")  # not signed in through the page: a redirect, no content
        assert page.status_code == 302
    finally:
        app.config["UNUSUAL_ACCESS_CASES"] = 10


def test_the_lead_records_a_periodic_review_which_is_audited_and_schedules_the_next(web, app, ctx):
    case_id = make_case("staff", state="under_review")
    lead = web("lead")
    page = lead.get(f"/cases/{case_id}").get_data(as_text=True)
    refused = lead.post(f"/cases/{case_id}/reviews", data={"csrf_token": csrf_token(page), "note": "Fine",
                                                           "next_review_due": "2000-01-01"})
    assert refused.status_code == 422 and "The next review must come after this one." in refused.get_data(True)
    lead.post(f"/cases/{case_id}/reviews", data={"csrf_token": csrf_token(page), "note": "Proportionate so far"})
    review = db.session.scalars(sa.select(CaseReview).where(CaseReview.case_id == case_id)).one()
    assert review.next_review_due == date.today() + timedelta(days=app.config["LEAD_REVIEW_INTERVAL_DAYS"])
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                           AuditEvent.action == "lead_review")).one()
    assert event.actor == "lead" and event.reason == "Proportionate so far"
    assert "Proportionate so far" in lead.get(f"/cases/{case_id}").get_data(as_text=True)
    officer = web("officer")
    token = csrf_token(officer.get(f"/cases/{case_id}").get_data(as_text=True))
    assert officer.post(f"/cases/{case_id}/reviews", data={"csrf_token": token, "note": "x"}).status_code == 403


def test_the_dashboard_shows_what_needs_the_leads_attention(web, ctx, app):
    waiting = make_case("staff")
    urgent = make_case("staff", state="under_review", immediate_danger=True, police_called=True)
    referred = make_case("staff", state="referred_to_police")
    overdue = make_case("staff", state="under_review")
    actions.add_action(user("officer"), overdue, {"title": "Ring the tutor", "owner_id": user("officer").id,
                                                  "due_date": (date.today() - timedelta(days=1)).isoformat()})
    first = make_case("staff", subject={"full_name": "Repeat Person", "subject_type": "learner",
                                        "date_of_birth": "2008-08-08"})
    repeat = make_case("staff2", subject={"full_name": "repeat  person", "subject_type": "learner",
                                          "date_of_birth": "2008-08-08"})
    reviewed = make_case("staff", state="under_review")
    oversight.record_review(user("lead"), reviewed, {"note": "Looked", "reviewed_on": "2026-01-05",
                                                     "next_review_due": "2026-02-05"})
    board = oversight.dashboard(db.session, user("lead"), panel_size=100_000)
    ids = lambda panel: {case.id for case in panel.items}  # noqa: E731
    assert waiting in ids(board.awaiting_acknowledgement) and urgent not in ids(board.awaiting_acknowledgement)
    assert urgent in ids(board.urgent)
    assert referred in ids(board.awaiting_police)
    assert overdue in {action.case_id for action in board.overdue_actions.items}
    assert repeat in ids(board.repeat_referrals) and first not in ids(board.repeat_referrals)
    assert reviewed in ids(board.reviews_due)

    page = web("lead").get("/oversight/").get_data(as_text=True)
    for section in ("Awaiting acknowledgement", "Urgent", "Overdue actions", "reviews due",
                    "Awaiting a police outcome", "Stalled", "Repeat referrals", "Unusual access"):
        assert section in page
    assert f"Awaiting acknowledgement ({board.awaiting_acknowledgement.total})" in page
    assert web("officer").get("/oversight/").status_code == 403


def test_the_case_review_shows_chronology_and_audit_side_by_side_filtered(web, ctx):
    case_id = make_case("staff", state="referred_to_police")
    lead = web("lead")
    whole = lead.get(f"/cases/{case_id}/review").get_data(as_text=True)
    assert "Reason for refer_to_police" in whole and "<code>referral_date</code>" in whole
    only_refer = lead.get(f"/cases/{case_id}/review?kind=refer_to_police").get_data(as_text=True)
    assert "<code>referral_date</code>" in only_refer and "raise_concern" not in only_refer.split("audit-trail")[1]
    by_staff = lead.get(f"/cases/{case_id}/review?person=staff").get_data(as_text=True)
    assert "Concern raised" in by_staff and "Reason for acknowledge" not in by_staff
    assert web("officer").get(f"/cases/{case_id}/review").status_code == 403
