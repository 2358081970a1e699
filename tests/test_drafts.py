"""Nothing typed is lost (app/drafts): drafts saved as one types, per user and never anyone else's, restored into the
form, given up when it is sent, kept from a refused form and from a form posted after the session ended (only for
the user whose session it was), expired after DRAFT_HOURS; saving is not activity, "Stay signed in" is. The journey
across an idle sign-out in a browser is in tests/test_browser_drafts.py."""
from __future__ import annotations

import html
import json
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from app.drafts import pages as draft_pages
from app.drafts import use_cases as drafts
from app.extensions import db
from app.governance import retention
from app.models import Draft, utcnow
from tests.conftest import PASSWORD, concern_payload, csrf_token, make_case, totp_code, user

ROLES = ("staff", "officer", "lead", "director", "governance", "admin")
DRAFT_INPUT = re.compile(r'<input type="hidden" name="draft_token" value="([^"]+)" data-draft-page="([^"]+)"'
                         r'(?: data-draft-saved="([^"]*)")?>')
IDLE = "seen_at"


def draft_inputs(page: str) -> dict[str, dict]:
    """The page's forms that keep drafts, by form key: their token, page and the draft they restore (or None)."""
    found = {}
    for token, back, saved in DRAFT_INPUT.findall(page):
        claims = draft_pages.read_token(html.unescape(token))
        assert claims is not None
        found[claims["k"]] = {"token": html.unescape(token), "page": back,
                              "saved": json.loads(html.unescape(saved)) if saved else None, "claims": claims}
    return found


def form_on(client, url: str, key: str) -> tuple[str, dict]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    text = page.get_data(as_text=True)
    return csrf_token(text), draft_inputs(text)[key]


def save(client, csrf: str, token: str, fields):
    return client.post("/drafts/save", json={"token": token, "fields": fields}, headers={"X-CSRFToken": csrf})


def restored(client, url: str, key: str):
    """The fields the form puts back, or None when it has nothing to put back (and then it says nothing of a draft)."""
    saved = form_on(client, url, key)[1]["saved"]
    assert saved is None or saved["fields"], saved
    return saved["fields"] if saved else None


def move_back(client, seconds: int, key: str = IDLE) -> None:
    with client.session_transaction() as session:
        session[key] -= seconds


def concern_form(csrf: str, token: str, **fields) -> dict:
    return {"csrf_token": csrf, "draft_token": token, "subject.full_name": "", "subject.subject_type": "",
            "description": "", "occurred_at": "", "location": "", **fields}


def sign_in_again(client, username: str, next_url: str) -> str:
    """Signs in on the sign-in page as the session's end left it (with `next`), and through the second step where
    the user has one: where the browser is sent at the end."""
    login = f"/login/?next={next_url}"
    page = client.get(login).get_data(as_text=True)
    answer = client.post(login, data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert answer.status_code == 302
    code = totp_code(username)
    if code is not None:
        verify = client.get("/two-step/verify").get_data(as_text=True)
        answer = client.post("/two-step/verify", data={"code": code, "csrf_token": csrf_token(verify)})
        assert answer.status_code == 302
    return urlparse(answer.location).path


# --- saving, per role, and nobody else's ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_role_keeps_a_draft_of_the_concern_form_that_only_they_get_back(web, role):
    client, other = web(role), web("staff2")
    csrf, form = form_on(client, "/concerns/new", "concern")
    assert form["claims"]["u"] == user(role).id and form["page"] == "/concerns/new"
    marker = f"Words of {role} {uuid.uuid4().hex}"
    answer = save(client, csrf, form["token"], {"description": marker, "subject.full_name": "Sam Example",
                                                "indicator_ids": ["1", "3"]})
    assert answer.status_code == 200 and answer.get_json()["saved"] is True

    assert restored(client, "/concerns/new", "concern") == {"description": marker, "subject.full_name": "Sam Example",
                                                            "indicator_ids": ["1", "3"]}
    assert marker not in other.get("/concerns/new").get_data(as_text=True)
    assert db.session.scalar(sa.select(Draft.user_id).where(Draft.fields.is_not(None), Draft.form_key == "concern",
                                                            Draft.user_id == user(role).id)) == user(role).id


def test_a_token_is_its_users_alone_and_the_endpoints_take_nothing_else(web, app):
    staff, staff2 = web("staff"), web("staff2")
    csrf, form = form_on(staff, "/concerns/new", "concern")
    csrf2, form2 = form_on(staff2, "/concerns/new", "concern")
    mine = f"Staff's words {uuid.uuid4().hex}"
    assert save(staff, csrf, form["token"], {"description": mine}).status_code == 200

    # staff2 with staff's token: refused, and staff's draft is as it was
    assert save(staff2, csrf2, form["token"], {"description": "Planted"}).status_code == 403
    assert staff2.post("/drafts/clear", json={"token": form["token"]}, headers={"X-CSRFToken": csrf2}).status_code \
        == 403
    assert restored(staff, "/concerns/new", "concern") == {"description": mine}
    # an altered token, another salt's signature, no token, bad fields
    tampered = form2["token"][:-2] + ("AA" if not form2["token"].endswith("AA") else "BB")
    assert save(staff2, csrf2, tampered, {"description": "x"}).status_code == 400
    with app.test_request_context():
        from itsdangerous import URLSafeTimedSerializer
        foreign = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps(form2["claims"])
    assert save(staff2, csrf2, foreign, {"description": "x"}).status_code == 400
    assert save(staff2, csrf2, None, {"description": "x"}).status_code == 400
    assert save(staff2, csrf2, form2["token"], ["not", "an", "object"]).status_code == 422
    assert save(staff2, csrf2, form2["token"], {"description": "x" * (drafts.VALUE_MAX + 1)}).status_code == 422
    assert save(staff2, csrf2, form2["token"], {"description": {"nested": "no"}}).status_code == 422
    # without the form's CSRF token, and signed out
    assert staff2.post("/drafts/save", json={"token": form2["token"], "fields": {}}).status_code == 400
    assert web(None).post("/drafts/save", json={"token": form2["token"], "fields": {}}).status_code in (400, 401)
    assert web(None).get("/session/status").status_code == 401


def test_the_form_key_and_user_come_only_from_the_signed_token(app):
    with app.test_request_context():
        token = draft_pages.make_token(user("staff").id, "case:1:note")
        claims = draft_pages.read_token(token)
        assert claims["u"] == user("staff").id and claims["k"] == "case:1:note"
        assert draft_pages.read_token(draft_pages.make_token(1, "anything")) is None  # not a form that keeps drafts
        assert draft_pages.read_token("x" * 2000) is None
    assert drafts.case_of("case:42:event:close") == 42 and drafts.case_of("concern") is None
    assert not drafts.valid_key("case:x:note") and not drafts.valid_key("concern:2")


# --- activity ---------------------------------------------------------------------------------------------------

def test_saving_is_not_activity_and_stay_signed_in_is(web, app):
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    move_back(client, idle - 60)
    assert save(client, csrf, form["token"], {"description": "Still typing"}).status_code == 200
    status = client.get("/session/status").get_json()
    assert status["signed_in"] is True and status["seconds_left"] <= 60  # neither the save nor asking kept it
    assert status["warn_seconds"] == app.config["SESSION_IDLE_WARNING_SECONDS"] and status["can_stay"] is True
    stayed = client.post("/session/stay", headers={"X-CSRFToken": csrf}).get_json()
    assert stayed["seconds_left"] >= idle - 5
    assert client.get("/session/status").get_json()["seconds_left"] >= idle - 5


def test_a_save_after_the_session_ended_is_kept_then_the_status_says_signed_out(web, app):
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    move_back(client, app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    words = f"Typed as it ended {uuid.uuid4().hex}"
    answer = save(client, csrf, form["token"], {"description": words})
    assert answer.status_code == 401 and answer.get_json()["saved"] is True
    assert client.get("/session/status").status_code == 401
    assert sign_in_again(client, "staff", "/concerns/new") == "/concerns/new"
    assert restored(client, "/concerns/new", "concern") == {"description": words}


# --- sent, refused --------------------------------------------------------------------------------------------

def test_a_sent_form_gives_up_its_draft_and_a_late_save_from_it_is_not_kept(web):
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    payload = concern_payload()
    assert save(client, csrf, form["token"], {"description": payload["description"]}).status_code == 200
    sent = client.post("/concerns/new", data=concern_form(
        csrf, form["token"], **{"subject.full_name": payload["subject"]["full_name"], "subject.subject_type": "learner",
                                "description": payload["description"], "occurred_at": "2026-01-05T10:00"}))
    assert sent.status_code == 302 and "/raised" in sent.location
    assert restored(client, "/concerns/new", "concern") is None
    late = save(client, csrf, form["token"], {"description": payload["description"]})
    assert late.status_code == 200 and late.get_json()["saved"] is False
    assert restored(client, "/concerns/new", "concern") is None
    # a new copy of the form keeps drafts again
    csrf, fresh = form_on(client, "/concerns/new", "concern")
    assert save(client, csrf, fresh["token"], {"description": "Another one"}).get_json()["saved"] is True


def test_a_refused_form_keeps_what_was_posted_as_the_draft(web):
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    words = f"Half a concern {uuid.uuid4().hex}"
    refused = client.post("/concerns/new", data=concern_form(csrf, form["token"], description=words))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert words in page and draft_inputs(page)["concern"]["saved"] is None  # the page shows what was posted
    assert restored(client, "/concerns/new", "concern")["description"] == words


def test_an_officers_case_forms_keep_drafts_that_the_reporter_and_other_officers_never_see(web):
    case_id = make_case("staff", state="under_review")
    officer = web("officer")
    page = officer.get(f"/cases/{case_id}").get_data(as_text=True)
    keys = set(draft_inputs(page))
    assert {f"case:{case_id}:note", f"case:{case_id}:action", f"case:{case_id}:risk",
            f"case:{case_id}:event:close"} <= keys
    assert all(form["page"] == f"/cases/{case_id}" for form in draft_inputs(page).values())
    note = draft_inputs(page)[f"case:{case_id}:note"]
    words = f"Spoke to the tutor {uuid.uuid4().hex}"
    assert save(officer, csrf_token(page), note["token"], {"text": words, "kind": "note"}).status_code == 200
    assert restored(officer, f"/cases/{case_id}", f"case:{case_id}:note") == {"text": words, "kind": "note"}
    assert db.session.scalar(sa.select(Draft.case_id).where(Draft.form_key == f"case:{case_id}:note")) == case_id

    for other in ("officer2", "lead", "staff"):
        seen = web(other).get(f"/cases/{case_id}").get_data(as_text=True)
        assert words not in seen, other
    assert draft_inputs(web("staff").get(f"/cases/{case_id}").get_data(as_text=True)) == {}  # the reporter's view

    sent = officer.post(f"/cases/{case_id}/notes", data={"csrf_token": csrf_token(page), "draft_token": note["token"],
                                                         "kind": "note", "text": words})
    assert sent.status_code == 302
    assert restored(officer, f"/cases/{case_id}", f"case:{case_id}:note") is None


# --- after the session ended ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ended_by", ["idle", "sign-out elsewhere in this browser"])
def test_a_concern_posted_after_the_session_ended_is_kept_and_back_after_signing_in(web, app, ended_by):
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    words = f"Posted too late {uuid.uuid4().hex}"
    if ended_by == "idle":
        move_back(client, app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    else:
        sign_out_page = client.get("/logout/").get_data(as_text=True)
        assert client.post("/logout/", data={"csrf_token": csrf_token(sign_out_page)}).status_code == 302
    answer = client.post("/concerns/new", data=concern_form(csrf, form["token"], description=words,
                                                            location="Library"))
    assert answer.status_code == 302
    target = urlparse(answer.location)
    assert target.path == "/login/" and parse_qs(target.query)["next"] == ["/concerns/new"]
    login_page = client.get(answer.location).get_data(as_text=True)
    assert "What you typed is kept" in html.unescape(login_page)
    assert not [c for c in db.session.scalars(sa.select(Draft)) if c.fields and words in str(c.fields)
                and c.user_id != user("staff").id]

    assert sign_in_again(client, "staff", "/concerns/new") == "/concerns/new"
    fields = restored(client, "/concerns/new", "concern")
    assert fields["description"] == words and fields["location"] == "Library"
    assert "csrf_token" not in fields and "draft_token" not in fields


def test_an_officers_note_posted_after_the_session_ended_comes_back_after_the_second_step(web, app):
    case_id = make_case("staff", state="under_review")
    officer = web("officer")
    page = officer.get(f"/cases/{case_id}").get_data(as_text=True)
    note = draft_inputs(page)[f"case:{case_id}:note"]
    move_back(officer, app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    words = f"Information gathered {uuid.uuid4().hex}"
    answer = officer.post(f"/cases/{case_id}/notes", data={"csrf_token": csrf_token(page),
                                                           "draft_token": note["token"], "kind": "advice",
                                                           "source": "DSL", "text": words})
    assert answer.status_code == 302
    assert parse_qs(urlparse(answer.location).query)["next"] == [f"/cases/{case_id}"]
    assert sign_in_again(officer, "officer", f"/cases/{case_id}") == f"/cases/{case_id}"
    assert restored(officer, f"/cases/{case_id}", f"case:{case_id}:note") == {"kind": "advice", "source": "DSL",
                                                                              "text": words}


def test_a_post_after_the_end_is_not_kept_unless_its_token_and_the_ended_session_agree(web, app):
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    # Another browser of the same user, whose session ended: the token is from a different session.
    other = web(None)
    page = other.get("/login/").get_data(as_text=True)
    other.post("/login/", data={"username": "staff", "password": PASSWORD, "csrf_token": csrf_token(page)})
    move_back(other, app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    words = f"Not to be kept {uuid.uuid4().hex}"
    answer = other.post("/concerns/new", data=concern_form(csrf, form["token"], description=words))
    assert answer.status_code == 302 and "next=" not in answer.location  # refused as before: to the sign-in page
    # No session at all (a browser with no cookie): nobody is identified, nothing is kept.
    assert web(None).post("/concerns/new", data=concern_form(csrf, form["token"], description=words)).status_code \
        in (302, 400)
    assert not [d for d in db.session.scalars(sa.select(Draft)) if words in json.dumps(d.fields)]


def test_a_form_from_before_signing_in_again_is_kept_and_the_user_taken_back_to_it(web):
    """Its tab was left open; the user signed out and in again elsewhere in the browser: the page's CSRF token is
    stale, so the form is refused, but the words are kept for the same user and put back."""
    client = web("staff")
    csrf, form = form_on(client, "/concerns/new", "concern")
    sign_out_page = client.get("/logout/").get_data(as_text=True)
    client.post("/logout/", data={"csrf_token": csrf_token(sign_out_page)})
    assert sign_in_again(client, "staff", "/") == "/"
    words = f"From the old tab {uuid.uuid4().hex}"
    answer = client.post("/concerns/new", data=concern_form(csrf, form["token"], description=words))
    assert answer.status_code == 302 and urlparse(answer.location).path == "/concerns/new"
    page = client.get("/concerns/new").get_data(as_text=True)
    assert "opened before you last signed in" in html.unescape(page)
    assert draft_inputs(page)["concern"]["saved"]["fields"]["description"] == words
    # Another user signed in in that browser gets nothing of it, and keeps nothing from it.
    other = web("staff2")
    refused = other.post("/concerns/new", data=concern_form(csrf, form["token"], description="Not theirs"))
    assert refused.status_code == 400
    assert restored(client, "/concerns/new", "concern")["description"] == words


# --- expiry -----------------------------------------------------------------------------------------------------

def test_a_draft_expires_after_a_day_and_the_nightly_run_deletes_it(web, app):
    client = web("staff2")
    csrf, form = form_on(client, "/concerns/new", "concern")
    words = f"Yesterday's words {uuid.uuid4().hex}"
    assert save(client, csrf, form["token"], {"description": words}).status_code == 200
    db.session.execute(sa.update(Draft).where(Draft.user_id == user("staff2").id, Draft.form_key == "concern")
                       .values(updated_at=utcnow() - timedelta(hours=app.config["DRAFT_HOURS"], minutes=1)))
    db.session.commit()  # a savepoint's release: the test's transaction is rolled back at its end
    assert restored(client, "/concerns/new", "concern") is None
    report = retention.run(utcnow().date())
    assert report.drafts_expired >= 1 and "Expired drafts deleted" in str(report)
    assert db.session.scalar(sa.select(Draft).where(Draft.user_id == user("staff2").id,
                                                    Draft.form_key == "concern")) is None
    db.session.rollback()


def test_signing_in_with_next_returns_there_after_the_second_step_and_never_to_another_site(web):
    assert sign_in_again(web(None), "lead", "/cases/") == "/cases/"
    assert sign_in_again(web(None), "lead", "https://example.org/") == "/"
    assert sign_in_again(web(None), "lead", "//example.org/") == "/"
