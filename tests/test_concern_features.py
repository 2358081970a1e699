"""What reporters and officers expect of a concern (issue 12, point 5): files on a concern, the reporter adding to
their own concern later, others involved, "My work" for officers and the Lead, and after a decision the case page
opening where it was made with a confirmation that says what happened. Pages and API, per role: staff see and add
only to their own concerns (404 for anyone else's), roles without case access get 403. Which role reaches which
route is in tests/test_access.py's MATRIX; this module checks what each does."""
from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.cases import actions, attachments, my_work, reporter
from app.cases import use_cases as cases
from app.extensions import db
from app.kernel.errors import InvalidData
from app.models import AuditEvent, Case, CaseAttachment, CaseEntry, CaseReview, PersonInvolved
from tests.conftest import concern_payload, csrf_token, deliver, make_case, user
from tests.sample_files import PDF, PNG, docx_bytes
from tests.test_pages import case_page, raise_concern, section, text, uk_local


def marker() -> str:
    return uuid.uuid4().hex[:10]


def photo(name: str = "photo.png", content: bytes = PNG):
    return (io.BytesIO(content), name)


def reporter_page(client, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="reporter-view"' in page
    return page


# --- files on a concern -----------------------------------------------------------------------------------------

def test_staff_attach_a_photo_and_a_pdf_when_raising_a_concern_and_the_officer_downloads_them(web):
    staff, officer = web("staff"), web("officer")
    name = f"Photo Person {marker()}"
    case_id = raise_concern(staff, name, attachments=[photo("screen shot.png"), photo("notes.pdf", PDF)])

    page = case_page(officer, case_id)
    files = text(section(page, 'id="attachments"', "</ul>"))
    assert "screen_shot.png" in files and "notes.pdf" in files  # kept under a safe name
    assert "by Staff Tester" in files
    assert "File attached: screen_shot.png" in text(section(page, 'id="chronology"', "</ol>"))
    [png_link, pdf_link] = re.findall(r'href="(/cases/\d+/attachments/\d+)"', page)
    download = officer.get(png_link)
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"].endswith("no-store")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert officer.get(pdf_link).data == PDF

    # The reporter sees their own files on their view of the concern, and downloads them.
    mine = reporter_page(staff, case_id)
    assert "screen_shot.png" in text(section(mine, 'id="your-files"', "</ul>"))
    assert staff.get(png_link).data == PNG
    # Nobody else does: not another member of staff, not a role without case access.
    assert web("staff2").get(png_link).status_code == 404
    assert web("director").get(png_link).status_code == 403
    events = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.case_id == case_id)).all()
    assert events.count("add_attachment") == 2 and events.count("upload_file") == 2


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_typed_is_lost(web):
    staff = web("staff")
    name = f"Refused File {marker()}"
    page = staff.get("/concerns/new").get_data(as_text=True)
    response = staff.post("/concerns/new", data={
        "csrf_token": csrf_token(page), "subject.full_name": name, "subject.subject_type": "learner",
        "description": f"What {name} said", "occurred_at": uk_local(), "others.0.name": "Sam Witness",
        "attachments": [photo("photo.png", b"MZ\x90\x00 not a picture")]})
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert "Only PDF, PNG, JPEG, DOCX files can be attached." in text(section(shown, 'id="attachments-error"', "</p>"))
    assert f"What {name} said" in shown and 'value="Sam Witness"' in shown
    assert 'aria-invalid="true"' in section(shown, 'id="attachments"', ">")
    assert not db.session.scalar(sa.select(Case.id).where(Case.description == f"What {name} said"))


def test_the_api_attaches_lists_and_serves_files_to_whom_they_belong(api):
    case_id = make_case("staff")
    staff, officer = api("staff"), api("officer")
    mine = staff.post(f"/api/v1/case/{case_id}/attachments", data={"file": photo("mine.png")})
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["result"]["filename"] == "mine.png"
    document = docx_bytes()
    theirs = officer.post(f"/api/v1/case/{case_id}/attachments", data={"file": photo("officers-notes.docx", document)})
    assert theirs.status_code == 201, theirs.get_json()

    listed = officer.get(f"/api/v1/case/{case_id}/attachments").get_json()
    assert [a["filename"] for a in listed["result"]] == ["mine.png", "officers-notes.docx"]
    # The reporter sees the file they added, never the officers' work.
    assert [a["filename"] for a in staff.get(f"/api/v1/case/{case_id}/attachments").get_json()["result"]] == \
        ["mine.png"]
    officers_file = f"/api/v1/case/{case_id}/attachments/{theirs.get_json()['id']}"
    assert staff.get(officers_file).status_code == 404
    got = officer.get(officers_file)
    assert got.status_code == 200 and got.data == document
    assert got.headers["Cache-Control"].endswith("no-store")
    assert staff.get(f"/api/v1/case/{case_id}/attachments/{mine.get_json()['id']}").data == PNG

    # Someone else's concern: as if it did not exist. No file, or a bad one: 422, nothing kept.
    assert api("staff2").post(f"/api/v1/case/{case_id}/attachments", data={"file": photo()}).status_code == 404
    assert api("staff2").get(f"/api/v1/case/{case_id}/attachments").status_code == 404
    assert api("governance").get(f"/api/v1/case/{case_id}/attachments").status_code == 403
    before = db.session.scalar(sa.select(sa.func.count()).select_from(CaseAttachment))
    db.session.rollback()
    empty = staff.post(f"/api/v1/case/{case_id}/attachments", data={})
    assert empty.status_code == 422 and list(empty.get_json()["message"]) == ["file"]
    renamed = staff.post(f"/api/v1/case/{case_id}/attachments", data={"file": photo("photo.pdf")})
    assert renamed.status_code == 422
    assert "does not match its content" in renamed.get_json()["message"]["file"][0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseAttachment)) == before


def test_nothing_is_added_to_a_closed_concern(api):
    case_id = make_case("staff", "closed")
    staff = api("staff")
    closed = staff.post(f"/api/v1/case/{case_id}/attachments", data={"file": photo()})
    assert closed.status_code == 409 and "closed" in closed.get_json()["message"]
    assert staff.post(f"/api/v1/case/{case_id}/information", json={"text": "More"}).status_code == 409


# --- the reporter adds information --------------------------------------------------------------------------------

def test_the_reporter_adds_information_on_their_concern_and_the_officers_are_told(web, inbox):
    case_id = make_case("staff")
    deliver(inbox)
    staff = web("staff")
    added = f"I remembered more: {marker()}"
    page = reporter_page(staff, case_id)
    form = section(page, 'id="add-information"', "</form>")
    response = staff.post(f"/cases/{case_id}/information", data={"csrf_token": csrf_token(form), "text": added})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case_id}#add-information")
    after = reporter_page(staff, case_id)
    assert "your information was added to the concern" in text(section(after, 'id="confirmation"', "</div>"))
    assert added in text(section(after, "What you added", "</ol>"))
    assert "your information was added" not in reporter_page(staff, case_id), "the confirmation shows once"

    officer_page = case_page(web("officer"), case_id)
    entry = text(section(officer_page, 'id="chronology"', "</ol>"))
    assert "The person who raised the concern added information" in entry and added in entry
    kinds = db.session.scalars(sa.select(CaseEntry.kind).where(CaseEntry.case_id == case_id)).all()
    assert "reporter_information" in kinds
    told = deliver(inbox)
    reference = db.session.get(Case, case_id).reference
    to_officers = [m for m in told if f"New information on Prevent concern {reference}" in m["Subject"]]
    assert {"officer@example.org", "officer2@example.org", "lead@example.org"} <= \
        {m["X-Envelope-To"] for m in to_officers}
    assert all(added not in m.get_payload() for m in to_officers), "emails carry no detail"


def test_information_comes_only_from_the_reporter(api, ctx):
    case_id = make_case("staff")
    empty = api("staff").post(f"/api/v1/case/{case_id}/information", json={"text": " "})
    assert empty.status_code == 422 and list(empty.get_json()["message"]) == ["text"]
    unknown = api("staff").post(f"/api/v1/case/{case_id}/information", json={"text": "More", "kind": "note"})
    assert unknown.status_code == 422 and list(unknown.get_json()["message"]) == ["kind"]
    for other in ("staff2", "officer", "lead"):
        assert api(other).post(f"/api/v1/case/{case_id}/information", json={"text": "Not mine"}).status_code == 404
    assert api("director").post(f"/api/v1/case/{case_id}/information", json={"text": "x"}).status_code == 403
    added = api("staff").post(f"/api/v1/case/{case_id}/information", json={"text": "They said it again"})
    assert added.status_code == 201 and added.get_json()["result"]["text"] == "They said it again"
    chronology = api("officer").get(f"/api/v1/case/{case_id}/chronology").get_json()["result"]
    assert [e["reason"] for e in chronology if e["kind"] == reporter.KIND] == ["They said it again"]


# --- others involved -----------------------------------------------------------------------------------------------

def test_others_involved_are_named_on_the_form_and_shown_to_officers_only(web):
    staff = web("staff")
    witness = f"Alex Witness {marker()}"
    case_id = raise_concern(staff, f"Involved Person {marker()}", **{
        "others.0.name": witness, "others.0.role": "Tutor", "others.0.relationship": "Teaches them",
        "others.1.name": "", "others.1.role": "", "others.1.relationship": "",
        "others.2.name": "Jo Classmate", "others.2.role": "", "others.2.relationship": "Friend"})
    shown = text(section(case_page(web("officer"), case_id), 'id="others-involved"', "</ul>")).replace(" ,", ",")
    assert f"{witness}, Tutor (Teaches them)" in shown and "Jo Classmate (Friend)" in shown
    assert witness not in reporter_page(staff, case_id)
    people = db.session.scalars(sa.select(PersonInvolved).where(PersonInvolved.case_id == case_id)
                                .order_by(PersonInvolved.id)).all()
    assert [(p.name, p.role, p.relation) for p in people] == [(witness, "Tutor", "Teaches them"),
                                                              ("Jo Classmate", None, "Friend")]


def test_a_person_involved_without_a_name_is_asked_for_it(web):
    staff = web("staff")
    page = staff.get("/concerns/new").get_data(as_text=True)
    response = staff.post("/concerns/new", data={
        "csrf_token": csrf_token(page), "subject.full_name": f"No Name {marker()}", "subject.subject_type": "learner",
        "description": "Seen", "occurred_at": uk_local(), "others.0.role": "Visitor"})
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert "This field is required." in text(section(shown, 'id="others-0-name-error"', "</p>"))
    assert 'value="Visitor"' in shown


def test_the_api_takes_others_involved_with_a_concern(api):
    witness = f"Api Witness {marker()}"
    raised = api("staff").post("/api/v1/case/", json=concern_payload(others_involved=[
        {"name": witness, "role": "Tutor", "relationship": "Teaches them"}, {"name": "Jo", "role": None}]))
    assert raised.status_code == 201, raised.get_json()
    assert "others_involved" not in raised.get_json()["result"], "the reporter's view is their own concern only"
    case = api("officer").get(f"/api/v1/case/{raised.get_json()['id']}").get_json()["result"]
    assert case["others_involved"] == [{"name": witness, "role": "Tutor", "relationship": "Teaches them"},
                                       {"name": "Jo", "role": None, "relationship": None}]
    bad = api("staff").post("/api/v1/case/", json=concern_payload(others_involved=[
        {"role": "Tutor"}, {"name": "Sam", "age": 12}]))
    assert bad.status_code == 422
    assert set(bad.get_json()["message"]) == {"others_involved.0.name", "others_involved.1.age"}
    assert api("staff").post("/api/v1/case/", json=concern_payload(others_involved="Sam")).status_code == 422


# --- My work ---------------------------------------------------------------------------------------------------

def test_my_work_lists_what_waits_for_the_officer_overdue_first(web, api, new_user):
    officer = new_user("Safeguarding Officer", "mywork")
    me = user(officer)
    waiting = make_case("staff")  # a new concern: every officer's to acknowledge
    taken = make_case("staff")
    cases.transition(me, taken, {"event": "acknowledge", "reason": "Mine to look into"})
    someone_elses = make_case("staff", "under_review")  # acknowledged by "officer"
    later = actions.add_action(user("lead"), taken, {"title": "Ring the tutor", "owner_id": me.id,
                                                     "due_date": (date.today() + timedelta(days=5)).isoformat()})
    overdue = actions.add_action(user("lead"), taken, {"title": "Read the file", "owner_id": me.id,
                                                       "due_date": date.today().isoformat()})
    db.session.execute(sa.update(type(overdue)).where(type(overdue).id == overdue.id)
                       .values(due_date=date.today() - timedelta(days=2)))
    db.session.commit()

    work = api(officer).get("/api/v1/my_work/").get_json()["result"]
    assert [a["id"] for a in work["actions"]] == [overdue.id, later.id]
    assert [a["overdue"] for a in work["actions"]] == [True, False]
    assert [c["id"] for c in work["awaiting_decision"]] == [taken]
    assert work["totals"]["actions"] == 2 and work["totals"]["awaiting_decision"] == 1
    # Every new concern, urgent first and then oldest first (the shared test database holds many: all of them here).
    everything = my_work.my_work(db.session, me, limit=100_000)
    new = [c.id for c in everything.to_acknowledge]
    assert waiting in new and taken not in new and someone_elses not in new
    assert len(new) == work["totals"]["to_acknowledge"]
    assert [(not c.urgent, c.recorded_at) for c in everything.to_acknowledge] == \
        sorted((not c.urgent, c.recorded_at) for c in everything.to_acknowledge)

    # The page, which is the officer's home page.
    client = web(officer)
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/my-work/")
    page = client.get("/my-work/").get_data(as_text=True)
    actions_shown = text(section(page, 'id="my-actions"', "</section>"))
    assert actions_shown.index("Read the file") < actions_shown.index("Ring the tutor")
    assert "1 overdue" in actions_shown
    assert db.session.get(Case, taken).reference in text(section(page, 'id="my-decisions"', "</section>"))
    # Staff keep today's home page, and have no "My work".
    assert web("staff").get("/").status_code == 200
    assert web("staff").get("/my-work/").status_code == 403
    assert api("staff").get("/api/v1/my_work/").status_code == 403


def test_my_work_shows_the_reviews_due(api, ctx):
    # A post-support case whose support ended six months ago: its 6-month review is due.
    case_id = make_case("staff", "post_exit_review")
    six_months_ago = date.today() - timedelta(days=190)
    db.session.execute(sa.update(Case).where(Case.id == case_id).values(exit_date=six_months_ago))
    db.session.commit()
    reviews = api("officer").get("/api/v1/my_work/").get_json()["result"]["reviews_due"]
    mine = [r for r in reviews if r["case"]["id"] == case_id]
    assert [(r["kind"], r["overdue"]) for r in mine] == [("6_months", True)]

    # The Lead also sees their periodic reviews due.
    reviewed = make_case("staff", "under_review")
    from app.governance import oversight
    oversight.record_review(user("lead"), reviewed, {"note": "Fine for now",
                                                     "reviewed_on": (date.today() - timedelta(days=10)).isoformat(),
                                                     "next_review_due": (date.today() - timedelta(days=1))
                                                     .isoformat()})
    lead = api("lead").get("/api/v1/my_work/").get_json()["result"]["reviews_due"]
    assert [(r["kind"], r["due_on"]) for r in lead if r["case"]["id"] == reviewed] == \
        [("lead_review", (date.today() - timedelta(days=1)).isoformat())]
    assert not [r for r in api("officer").get("/api/v1/my_work/").get_json()["result"]["reviews_due"]
                if r["kind"] == "lead_review"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseReview)
                             .where(CaseReview.case_id == reviewed)) == 1


# --- after a decision --------------------------------------------------------------------------------------------

def test_after_a_decision_the_case_page_opens_where_it_was_made_saying_what_happened(web):
    officer = web("officer")
    case_id = make_case("staff", "under_review")
    page = case_page(officer, case_id)
    form = section(page, 'id="event-refer_to_police"', "</details>")
    response = officer.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_token(form), "event": "refer_to_police", "reason": "Meets the threshold",
        "referral_date": date.today().isoformat(), "subject_informed": "no"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case_id}#decide")
    after = case_page(officer, case_id)
    said = section(after, 'id="decide"', "</div>")
    assert 'role="status"' in said
    assert "Referred to the police. The case is now Referred to police." in text(said)
    assert "The case is now" not in case_page(officer, case_id), "said once"

    # An action, then its completion: the page opens at the actions.
    form = section(after, 'id="add-action"', "</details>")
    response = officer.post(f"/cases/{case_id}/actions", data={
        "csrf_token": csrf_token(form), "title": "Send the form", "owner_id": str(user("officer").id),
        "due_date": (date.today() + timedelta(days=3)).isoformat()})
    assert response.headers["Location"].endswith("#actions-section")
    said = text(section(case_page(officer, case_id), 'id="actions-section"', "</ul>"))
    assert "Action added for Officer Tester, due" in said

    # A note: the page opens at the Check section.
    page = case_page(officer, case_id)
    form = section(page, 'id="add-note"', "</details>")
    response = officer.post(f"/cases/{case_id}/notes", data={
        "csrf_token": csrf_token(form), "kind": "advice_sought", "text": "Asked the police Prevent team"})
    assert response.headers["Location"].endswith("#check")
    assert "Added to the chronology: Advice sought." in text(section(case_page(officer, case_id), 'id="check"',
                                                                      "</details>"))


def test_a_refused_decision_says_nothing_was_saved_and_no_confirmation(web):
    officer = web("officer")
    case_id = make_case("staff", "under_review")
    form = section(case_page(officer, case_id), 'id="event-close"', "</details>")
    response = officer.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_token(form), "event": "close", "outcome": "no_further_action", "reason": ""})
    assert response.status_code == 422
    assert "The case is now" not in response.get_data(as_text=True)
    assert db.session.get(Case, case_id).status.value == "under_review"


def test_the_concern_form_offers_files_and_others_involved(web):
    page = web("staff").get("/concerns/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in section(page, '<form method="post" action="/concerns/new', ">")
    assert 'type="file" id="attachments" name="attachments" multiple' in page
    assert 'name="others.0.name"' in page and 'name="others.2.relationship"' in page


def test_a_concern_takes_at_most_five_files(app, ctx):
    too_many = [(f"p{n}.png", PNG) for n in range(attachments.MAX_FILES_AT_RAISING + 1)]
    with pytest.raises(InvalidData) as refused:
        cases.raise_concern(user("staff"), concern_payload(), uploads=too_many)
    assert refused.value.errors == {"attachments": ["Attach at most 5 files; add more to the concern afterwards."]}
