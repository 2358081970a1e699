"""Partner employers: who may see and keep them, the communications log and its attachments, the awareness email and
its acknowledgement link, coverage, and reminders to the programme director.

The database is shared by the whole test session: every test makes its own programme directors and employers, and
coverage is checked per director of its own and as a change in the overall figures.
"""
from __future__ import annotations

import io
import re
import time
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.cases import subjects
from app.cases import use_cases as cases
from app.employers import awareness
from app.employers import use_cases as employers
from app.extensions import db
from app.kernel.uow import unit_of_work
from app.models import AuditEvent, CommunicationAttachment, Employer, EmployerCommunication, OutboxEmail, StoredFile
from app.notifications import notify
from tests.conftest import concern_payload, csrf_token, deliver, user
from tests.factories import make_user
from tests.sample_files import DOCUMENT_XML, JPEG, PDF, PNG, docx_bytes

TODAY = date.today()


# --- making records -----------------------------------------------------------------------------------------------

def new_director(first_name: str = "Dana") -> str:
    """A Programme Director of this test's own; returns the username (sign in with PASSWORD)."""
    return make_user("Programme Director", "director", first_name, f"Director{uuid.uuid4().hex[:6]}")


def make_employer(owner: str, **fields) -> int:
    marker = uuid.uuid4().hex[:8]
    payload = {"name": f"Employer {marker}", "sector": "Construction", "address": "1 Test Street, Bristol",
               "contact_name": f"Pat Contact {marker}", "contact_email": f"prevent-{marker}@employer.example",
               "contact_phone": "0117 000 0099", **fields}
    return employers.create_employer(user(owner), payload).id


def log(owner: str, employer_id: int, occurred_on: date, acknowledged_on: date | None = None, **extra) -> int:
    payload = {"occurred_on": occurred_on.isoformat(), "method": "meeting", "shared": ["policy", "briefing"], **extra}
    if acknowledged_on:
        payload.update(acknowledged_on=acknowledged_on.isoformat(), acknowledged_by="Pat Contact")
    return employers.log_communication(user(owner), employer_id, payload).id


def attach(owner: str, employer_id: int, communication_id: int, data: bytes = PDF, name: str = "briefing.pdf") -> int:
    return employers.add_attachment(user(owner), employer_id, communication_id, {"kind": "briefing"}, name, data).id


def audit_count() -> int:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    db.session.rollback()
    return count


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def signed_in_token(client) -> str:
    """A CSRF token for this client's session, from a page every signed-in role may open."""
    return csrf_token(client.get("/concerns/new").get_data(as_text=True))


# --- 1. who may do what -------------------------------------------------------------------------------------------

class Records:
    """An employer kept by `owner`, with a communication and an attached file."""

    def __init__(self, owner: str):
        self.employer = make_employer(owner)
        self.communication = log(owner, self.employer, TODAY - timedelta(days=3))
        self.attachment = attach(owner, self.employer, self.communication)


def new_employer(me: int | None) -> dict[str, Any]:
    """A new employer kept by whoever asks (a Programme Director keeps their own; the Lead names the director)."""
    return {"name": f"New Employer {uuid.uuid4().hex[:8]}", "contact_email": "someone@employer.example",
            "active": "yes", **({"director_id": me} if me else {})}


def communication_form(me: int | None) -> dict[str, Any]:
    return {"occurred_on": TODAY.isoformat(), "method": "call", "shared": ["policy"]}


# (kind, method, path for the records, body for the signed-in user's id): every employer route, with a valid request
ROUTES = {
    "list page": ("page", "GET", lambda r: "/employers/", None),
    "employer page": ("page", "GET", lambda r: f"/employers/{r.employer}", None),
    "new form": ("page", "GET", lambda r: "/employers/new", None),
    "add employer": ("page", "POST", lambda r: "/employers/new", new_employer),
    "edit form": ("page", "GET", lambda r: f"/employers/{r.employer}/edit", None),
    "edit employer": ("page", "POST", lambda r: f"/employers/{r.employer}/edit",
                      lambda me: {"sector": "Retail", "active": "yes"}),
    "log communication": ("page", "POST", lambda r: f"/employers/{r.employer}/communications", communication_form),
    "record acknowledgement": ("page", "POST",
                               lambda r: f"/employers/{r.employer}/communications/{r.communication}/acknowledgement",
                               lambda me: {"acknowledged_on": TODAY.isoformat(), "acknowledged_by": "Pat"}),
    "attach file": ("page", "POST", lambda r: f"/employers/{r.employer}/communications/{r.communication}/attachments",
                    lambda me: {"kind": "signed_acknowledgement", "file": (io.BytesIO(PDF), "signed.pdf")}),
    "download file": ("page", "GET", lambda r: f"/employers/{r.employer}/attachments/{r.attachment}", None),
    "awareness email": ("page", "POST", lambda r: f"/employers/{r.employer}/awareness-email", lambda me: {}),
    "coverage page": ("page", "GET", lambda r: "/coverage/", None),
    "api list": ("api", "GET", lambda r: "/api/v1/employer/", None),
    "api create": ("api", "POST", lambda r: "/api/v1/employer/", new_employer),
    "api get": ("api", "GET", lambda r: f"/api/v1/employer/{r.employer}", None),
    "api update": ("api", "PUT", lambda r: f"/api/v1/employer/{r.employer}", lambda me: {"sector": "Care"}),
    "api communications": ("api", "GET", lambda r: f"/api/v1/employer/{r.employer}/communications", None),
    "api log communication": ("api", "POST", lambda r: f"/api/v1/employer/{r.employer}/communications",
                              communication_form),
    "api coverage": ("api", "GET", lambda r: "/api/v1/employer/coverage", None),
}
COVERAGE_ROUTES = {"coverage page", "api coverage"}
CREATE_OR_LIST = {"list page", "new form", "add employer", "api list", "api create"}


def expected(route: str, role: str | None) -> str:
    kind = ROUTES[route][0]
    if role is None:
        return "login" if kind == "page" else "401"
    if role in ("staff", "officer", "admin"):
        return "403"
    if role == "governance":
        return "ok" if route in COVERAGE_ROUTES else "403"
    if role == "lead":
        return "ok"
    if route in COVERAGE_ROUTES:  # a programme director keeps employers; the figures are the Lead's and Governance's
        return "403"
    return "ok" if role == "owner" or route in CREATE_OR_LIST else "404"


def outcome(response, kind: str) -> str:
    if response.status_code == 302 and urlparse(response.location).path == "/login/":
        return "login"
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    return "ok" if response.status_code < 400 else f"HTTP {response.status_code}"


@pytest.fixture(scope="module")
def two_directors(app, module_transaction):
    with app.app_context():
        return new_director("Owner"), new_director("Other")


@pytest.mark.parametrize("role", ["owner", "other_director", "lead", "governance", "staff", "officer", "admin", None],
                         ids=lambda role: role or "anonymous")
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_role_on_employer_route(web, api, two_directors, route, role):
    """A programme director keeps only their own employers (another's is 404, as if it did not exist); the Lead
    keeps all; Governance reads the coverage figures only; staff, officers and the Admin have no employer access."""
    owner, other = two_directors
    username = {"owner": owner, "other_director": other}.get(role, role)
    records = Records(owner)
    kind, method, path, body = ROUTES[route]
    me = user(username).id if username else None
    if kind == "api":
        client = api(username)
        before = audit_count()
        response = getattr(client, method.lower())(path(records), json=body(me) if body else None)
    else:
        client = web(username)
        token = signed_in_token(client) if username else csrf_token(client.get("/login/").get_data(as_text=True))
        before = audit_count()
        response = (client.get(path(records)) if method == "GET"
                    else client.post(path(records), data={**body(me), "csrf_token": token}))
    result = outcome(response, kind)
    assert result == expected(route, role), (response.status_code, response.get_data(as_text=True)[:300])
    if method != "GET":
        assert (audit_count() != before) == (result == "ok"), "an allowed write is audited; a refusal changes nothing"


def test_a_director_lists_only_their_own_employers_and_the_lead_lists_all(web, api, ctx):
    mine, theirs = new_director(), new_director()
    own_id, other_id = make_employer(mine), make_employer(theirs)
    own_name = db.session.get(Employer, own_id).name
    other_name = db.session.get(Employer, other_id).name

    listed = api(mine).get("/api/v1/employer/?q=(page_size:100)").get_json()
    assert listed["ids"] == [own_id] and listed["count"] == 1
    page = page_text(web(mine).get("/employers/"))
    assert own_name in page and other_name not in page

    lead_ids = set()
    for page_number in range(50):
        got = api("lead").get(f"/api/v1/employer/?q=(page:{page_number},page_size:100)").get_json()
        lead_ids |= set(got["ids"])
        if len(got["ids"]) < 100:
            break
    assert {own_id, other_id} <= lead_ids


def test_a_director_edits_their_own_employer_but_cannot_give_it_away_or_take_anothers(web, api, ctx):
    mine, theirs = new_director(), new_director()
    own_id = make_employer(mine)
    client = web(mine)
    form = client.get(f"/employers/{own_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    saved = client.post(f"/employers/{own_id}/edit", data={
        "csrf_token": csrf_token(form), "version": version, "name": "Renamed By Owner " + uuid.uuid4().hex[:6],
        "contact_email": "new-contact@employer.example", "active": "yes"})
    assert saved.status_code == 302
    assert "new-contact@employer.example" in page_text(client.get(f"/employers/{own_id}"))

    given_away = api(mine).put(f"/api/v1/employer/{own_id}", json={"director_id": user(theirs).id})
    assert given_away.status_code == 422 and set(given_away.get_json()["message"]) == {"director_id"}
    created_for_another = api(mine).post("/api/v1/employer/", json={"name": "Not Mine " + uuid.uuid4().hex,
                                                                    "director_id": user(theirs).id})
    assert created_for_another.status_code == 422
    # The Lead hands the employer over: it leaves the first director's list and joins the other's.
    handed = api("lead").put(f"/api/v1/employer/{own_id}", json={"director_id": user(theirs).id})
    assert handed.status_code == 200, handed.get_json()
    assert api(mine).get(f"/api/v1/employer/{own_id}").status_code == 404
    assert api(theirs).get(f"/api/v1/employer/{own_id}").get_json()["result"]["director_id"] == user(theirs).id


def test_a_director_sees_no_case_data(web, api, ctx):
    """No case route, and on the employer's page only apprentices no concern was raised about, by name and
    programme: that someone is the subject of a concern is itself case data."""
    director = new_director()
    employer_id = make_employer(director)
    marker = uuid.uuid4().hex[:8]
    placed = subjects.create_subject(user(director), {"full_name": f"Placed Apprentice {marker}",
                                                      "subject_type": "learner", "programme": "Level 3 Plumbing",
                                                      "employer_id": employer_id})
    concern = cases.raise_concern(user("staff"), concern_payload(
        description=f"Concern text {marker}",
        subject={"full_name": f"Learner Of Concern {marker}", "subject_type": "learner", "employer_id": employer_id}))
    reference = concern.reference

    page = web(director).get(f"/employers/{employer_id}")
    shown = page_text(page)
    assert page.status_code == 200
    assert f"Placed Apprentice {marker}" in shown and "Level 3 Plumbing" in shown
    assert f"Learner Of Concern {marker}" not in shown and f"Concern text {marker}" not in shown
    assert reference not in shown
    detail = api(director).get(f"/api/v1/employer/{employer_id}").get_json()["result"]
    assert detail["apprentices"] == [{"id": placed.id, "full_name": f"Placed Apprentice {marker}",
                                      "programme": "Level 3 Plumbing"}]
    # The Lead, who may work on the case, sees both people placed there.
    lead_names = {a["full_name"] for a in api("lead").get(f"/api/v1/employer/{employer_id}").get_json()["result"][
        "apprentices"]}
    assert lead_names == {f"Placed Apprentice {marker}", f"Learner Of Concern {marker}"}

    assert web(director).get("/cases/").status_code == 403
    assert web(director).get(f"/cases/{concern.id}").status_code == 403
    assert api(director).get("/api/v1/case/").status_code == 403
    assert api(director).get(f"/api/v1/case/{concern.id}").status_code == 403
    assert api(director).get(f"/api/v1/subject/{placed.id}").status_code == 403


def test_governance_sees_only_the_figures(web, api, ctx):
    director = new_director()
    surname = user(director).last_name
    employer_id = make_employer(director)
    name = db.session.get(Employer, employer_id).name

    figures = api("governance").get("/api/v1/employer/coverage")
    assert figures.status_code == 200
    result = figures.get_json()["result"]
    assert "overdue" not in result and set(result["overall"]) == {"active", "covered", "overdue", "percent"}
    assert all(row["director_id"] is None and row["director"].startswith(("Programme director ", "No programme"))
               for row in result["by_director"])
    page = web("governance").get("/coverage/")
    assert page.status_code == 200
    assert name not in page_text(page) and surname not in page_text(page)
    assert "coverage-overdue" not in page.get_data(as_text=True)

    for path in ("/employers/", f"/employers/{employer_id}", "/cases/"):
        assert web("governance").get(path).status_code == 403
    for path in ("/api/v1/employer/", f"/api/v1/employer/{employer_id}", "/api/v1/case/"):
        assert api("governance").get(path).status_code == 403


# --- 2. employers and the communications log ----------------------------------------------------------------------

def test_every_bad_field_is_reported_at_once_and_the_page_keeps_what_was_typed(web, api, ctx):
    director = new_director()
    response = api(director).post("/api/v1/employer/", json={"contact_email": "not an address", "active": "maybe"})
    assert response.status_code == 422
    assert set(response.get_json()["message"]) == {"name", "contact_email", "active"}

    client = web(director)
    page = client.get("/employers/new").get_data(as_text=True)
    refused = client.post("/employers/new", data={"csrf_token": csrf_token(page), "name": "",
                                                  "contact_name": "Typed Contact Name", "contact_email": "nope"})
    assert refused.status_code == 422
    assert 'value="Typed Contact Name"' in refused.get_data(as_text=True)
    assert "Enter an email address" in page_text(refused)


def test_a_duplicate_name_is_a_field_error(api, ctx):
    director = new_director()
    name = f"Same Name {uuid.uuid4().hex[:8]}"
    assert api(director).post("/api/v1/employer/", json={"name": name}).status_code == 201
    again = api("lead").post("/api/v1/employer/", json={"name": name.upper(), "director_id": user(director).id})
    assert again.status_code == 422 and set(again.get_json()["message"]) == {"name"}


def test_a_stale_edit_is_refused_and_loses_nothing_typed(web, api, ctx):
    director = new_director()
    employer_id = make_employer(director)
    client = web(director)
    form = client.get(f"/employers/{employer_id}/edit").get_data(as_text=True)
    old_version = re.search(r'name="version" value="(\d+)"', form).group(1)
    assert api(director).put(f"/api/v1/employer/{employer_id}", json={"sector": "Changed elsewhere"}).status_code == 200

    stale = client.post(f"/employers/{employer_id}/edit", data={
        "csrf_token": csrf_token(form), "version": old_version, "name": "My Typed Name " + uuid.uuid4().hex[:6],
        "sector": "My typed sector", "active": "yes"})
    assert stale.status_code == 409
    assert "The employer changed since you opened it" in page_text(stale)
    assert 'value="My typed sector"' in stale.get_data(as_text=True)
    put = api(director).put(f"/api/v1/employer/{employer_id}", json={"sector": "x", "version": int(old_version)})
    assert put.status_code == 409
    assert db.session.get(Employer, employer_id).sector == "Changed elsewhere"


def test_a_communication_is_logged_in_seconds_with_the_next_contact_a_year_on(web, api, ctx):
    director = new_director()
    employer_id = make_employer(director)
    client = web(director)
    page = client.get(f"/employers/{employer_id}").get_data(as_text=True)
    assert f'name="occurred_on" value="{TODAY:%d/%m/%Y}"' in page  # today, already filled in (UK style)
    logged = client.post(f"/employers/{employer_id}/communications", data={
        "csrf_token": csrf_token(page), "occurred_on": TODAY.isoformat(), "method": "meeting",
        "shared": ["policy", "briefing"], "summary": "Met the HR manager on site."})
    assert logged.status_code == 302
    rows = api(director).get(f"/api/v1/employer/{employer_id}/communications").get_json()["result"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["method"], row["shared"], row["summary"]) == ("meeting", ["policy", "briefing"],
                                                              "Met the HR manager on site.")
    assert row["next_contact_due"] == (TODAY + relativedelta(months=12)).isoformat()
    assert row["acknowledged_on"] is None and row["created_by"] == director


def test_a_bad_communication_reports_every_field_and_keeps_what_was_typed(web, api, ctx):
    director = new_director()
    employer_id = make_employer(director)
    response = api(director).post(f"/api/v1/employer/{employer_id}/communications", json={
        "occurred_on": (TODAY + timedelta(days=1)).isoformat(), "shared": ["gossip"], "acknowledged_by": "Someone"})
    assert response.status_code == 422
    assert set(response.get_json()["message"]) == {"occurred_on", "method", "shared", "acknowledged_on"}

    client = web(director)
    page = client.get(f"/employers/{employer_id}").get_data(as_text=True)
    refused = client.post(f"/employers/{employer_id}/communications", data={
        "csrf_token": csrf_token(page), "occurred_on": TODAY.isoformat(), "summary": "Typed summary kept"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Typed summary kept" in html and "Say what was shared." in html
    assert api(director).get(f"/api/v1/employer/{employer_id}/communications").get_json()["count"] == 0


def test_an_acknowledgement_that_comes_later_is_recorded_once(web, ctx):
    director = new_director()
    employer_id = make_employer(director)
    communication_id = log(director, employer_id, TODAY - timedelta(days=10))
    client = web(director)
    page = client.get(f"/employers/{employer_id}").get_data(as_text=True)
    path = f"/employers/{employer_id}/communications/{communication_id}/acknowledgement"
    data = {"csrf_token": csrf_token(page), "acknowledged_on": (TODAY - timedelta(days=2)).isoformat(),
            "acknowledged_by": "Signed Letter Person"}
    assert client.post(path, data=data).status_code == 302
    assert client.post(path, data=data).status_code == 409
    communication = db.session.get(EmployerCommunication, communication_id)
    assert (communication.acknowledged_on, communication.acknowledged_by) == (TODAY - timedelta(days=2),
                                                                              "Signed Letter Person")


def test_every_change_is_audited(ctx):
    director = new_director()
    employer_id = make_employer(director)
    employers.update_employer(user(director), employer_id, {"sector": "Hospitality"})
    communication_id = log(director, employer_id, TODAY)
    attachment_id = attach(director, employer_id, communication_id)
    employers.record_acknowledgement(user(director), employer_id, communication_id,
                                     {"acknowledged_on": TODAY.isoformat(), "acknowledged_by": "Pat"})
    file_id = db.session.scalar(sa.select(CommunicationAttachment.file_id)
                                .where(CommunicationAttachment.id == attachment_id))
    events = db.session.execute(sa.select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id,
                                          AuditEvent.actor, AuditEvent.changes).where(sa.or_(
        sa.and_(AuditEvent.entity_type == "Employer", AuditEvent.entity_id == str(employer_id)),
        sa.and_(AuditEvent.entity_type == "EmployerCommunication", AuditEvent.entity_id == str(communication_id)),
        sa.and_(AuditEvent.entity_type == "CommunicationAttachment", AuditEvent.entity_id == str(attachment_id)),
        sa.and_(AuditEvent.entity_type == "StoredFile", AuditEvent.entity_id == str(file_id)),
    )).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["create_employer", "update_employer", "log_communication", "upload_file",
                                          "add_attachment", "record_acknowledgement"]
    assert {e.actor for e in events} == {director}
    assert events[1].changes == {"sector": {"old": "Construction", "new": "Hospitality"}}
    assert events[3].changes["data"] == {"old": None, "new": f"{len(PDF)} bytes"}


# --- 3. attachments -----------------------------------------------------------------------------------------------

def upload(client, employer_id: int, communication_id: int, data: bytes, name: str, kind: str = "briefing"):
    page = client.get(f"/employers/{employer_id}").get_data(as_text=True)
    return client.post(f"/employers/{employer_id}/communications/{communication_id}/attachments",
                       data={"csrf_token": csrf_token(page), "kind": kind, "file": (io.BytesIO(data), name)})


def stored_files(communication_id: int) -> list[tuple[str, str, int]]:
    rows = db.session.execute(sa.select(StoredFile.filename, StoredFile.content_type, StoredFile.size)
                              .join(CommunicationAttachment,
                                    CommunicationAttachment.file_id == StoredFile.id)
                              .where(CommunicationAttachment.communication_id == communication_id)
                              .order_by(StoredFile.id)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def test_attachments_of_the_allowed_types_are_kept_and_downloaded_by_those_who_keep_the_employer(web, ctx):
    director, other = new_director(), new_director()
    employer_id = make_employer(director)
    communication_id = log(director, employer_id, TODAY)
    client = web(director)
    for data, name, kind in ((PDF, "Briefing pack.pdf", "briefing"), (PNG, "signed.png", "signed_acknowledgement"),
                             (docx_bytes(), "notes.docx", "other"), (JPEG, "scan.jpg", "signed_acknowledgement")):
        assert upload(client, employer_id, communication_id, data, name, kind).status_code == 302, name
    assert [(name, kind) for name, kind, _ in stored_files(communication_id)] == [
        ("Briefing_pack.pdf", "application/pdf"), ("signed.png", "image/png"),
        ("notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("scan.jpg", "image/jpeg")]

    page = client.get(f"/employers/{employer_id}").get_data(as_text=True)
    first = re.search(rf'href="(/employers/{employer_id}/attachments/(\d+))">Briefing_pack.pdf<', page)
    download = client.get(first.group(1))
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert web("lead").get(first.group(1)).data == PDF
    assert web(other).get(first.group(1)).status_code == 404
    assert web("staff").get(first.group(1)).status_code == 403
    # An attachment asked for under an employer of one's own that it does not belong to: not found.
    own_other = make_employer(other)
    assert web(other).get(f"/employers/{own_other}/attachments/{first.group(2)}").status_code == 404


@pytest.mark.parametrize("data,name,message", [
    (b"#!/bin/sh\necho hello\n", "briefing.pdf", "Only PDF, PNG, JPEG, DOCX files can be attached."),
    (b"<html><script>alert(1)</script></html>", "page.html", "Only PDF, PNG, JPEG, DOCX files can be attached."),
    (b"PK\x03\x04not really a zip", "letter.docx", "Only PDF, PNG, JPEG, DOCX files can be attached."),
    (PNG, "briefing.pdf", "The file's name does not match its content (PNG): rename it .png."),
    (b"", "empty.pdf", "Choose a file: this one is empty."),
    (b"%PDF-1.7\n<script>alert(document.cookie)</script>\n", "briefing.pdf",
     "This file could not be read as a PDF file: it may be damaged."),
    (PNG[:40], "signed.png", "This file could not be read as a PNG file: it may be damaged."),
    (b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>", "signed.png",
     "This file could not be read as a PNG file: it may be damaged."),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "scan.jpg", "This file could not be read as a JPEG file: it may be damaged."),
    (docx_bytes(DOCUMENT_XML.replace("<w:body/>", "<w:body>")), "notes.docx",
     "This file could not be read as a DOCX file: it may be damaged."),
], ids=["script", "html", "broken zip", "renamed", "empty", "pdf header then script", "truncated png",
        "png header then script", "jpeg header only", "docx with broken xml"])
def test_files_of_other_types_are_refused(web, ctx, data, name, message):
    director = new_director()
    employer_id = make_employer(director)
    communication_id = log(director, employer_id, TODAY)
    refused = upload(web(director), employer_id, communication_id, data, name)
    assert refused.status_code == 422
    assert message in page_text(refused).replace("&#39;", "'")
    assert stored_files(communication_id) == []


def test_a_file_over_the_size_limit_is_refused_and_a_huge_upload_is_413(web, app, ctx):
    director = new_director()
    employer_id = make_employer(director)
    communication_id = log(director, employer_id, TODAY)
    client = web(director)
    limit = app.config["UPLOAD_MAX_BYTES"]
    too_big = upload(client, employer_id, communication_id, PDF + b"0" * (limit - len(PDF) + 1), "big.pdf")
    assert too_big.status_code == 422 and "The file is larger than 5 MB" in page_text(too_big)
    just_fits = upload(client, employer_id, communication_id, PDF + b"0" * (limit - len(PDF)), "fits.pdf")
    assert just_fits.status_code == 302
    huge = upload(client, employer_id, communication_id, PDF + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                  "huge.pdf")
    assert huge.status_code == 413 and "The upload is too large." in page_text(huge)
    assert stored_files(communication_id) == [("fits.pdf", "application/pdf", limit)]


# --- 4. the awareness email and its acknowledgement link ----------------------------------------------------------

def body_of(message) -> str:
    return message.get_payload(decode=True).decode("utf-8")


LINK_RE = re.compile(r"https?://\S+(/employer-acknowledgement/\S+)")


def send_awareness_email(web, director: str, employer_id: int) -> None:
    client = web(director)
    page = client.get(f"/employers/{employer_id}").get_data(as_text=True)
    sent = client.post(f"/employers/{employer_id}/awareness-email", data={"csrf_token": csrf_token(page)})
    assert sent.status_code == 302


def awareness_communication(employer_id: int) -> EmployerCommunication:
    communication = db.session.scalar(sa.select(EmployerCommunication).where(
        EmployerCommunication.employer_id == employer_id).order_by(EmployerCommunication.id.desc()))
    db.session.refresh(communication)
    return communication


def test_the_awareness_email_reaches_the_contact_and_is_logged(web, inbox, app, ctx):
    director = new_director()
    employer_id = make_employer(director, contact_name="Robin Contact")
    employer = db.session.get(Employer, employer_id)
    address = employer.contact_email
    send_awareness_email(web, director, employer_id)

    communication = awareness_communication(employer_id)
    assert communication.method.value == "email" and communication.shared == ["policy", "contacts"]
    assert communication.occurred_on == TODAY and communication.acknowledged_on is None
    assert communication.next_contact_due == TODAY + relativedelta(months=12)
    email = db.session.get(OutboxEmail, communication.outbox_email_id)
    assert (email.to_address, email.recipient_id, email.kind) == (address, None, "employer_awareness")

    messages = [m for m in deliver(inbox) if m["To"] == address]
    assert len(messages) == 1
    body = body_of(messages[0])
    assert messages[0]["Subject"] == "Example Training Provider: our Prevent duty, and who to contact"
    assert body.startswith("Dear Robin Contact,") and employer.name in body
    assert "call 999" in body
    for contact in app.config["SAFEGUARDING_CONTACTS"]:
        assert contact["name"] in body and contact["phone"] in body
    assert LINK_RE.search(body)


def test_an_employer_without_a_contact_email_or_inactive_is_not_sent_it(web, ctx):
    director = new_director()
    no_address = make_employer(director, contact_email="")
    inactive = make_employer(director, active=False)
    client = web(director)
    page = client.get(f"/employers/{no_address}").get_data(as_text=True)
    refused = client.post(f"/employers/{no_address}/awareness-email", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 422 and "Add the Prevent contact's email address first." in refused.get_data(
        as_text=True).replace("&#39;", "'")
    refused = client.post(f"/employers/{inactive}/awareness-email", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 409 and "marked inactive" in page_text(refused)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmployerCommunication).where(
        EmployerCommunication.employer_id.in_([no_address, inactive]))) == 0


def link_state(communication_id: int) -> tuple:
    row = db.session.execute(sa.select(EmployerCommunication.acknowledged_on, EmployerCommunication.acknowledged_by,
                                       EmployerCommunication.ack_nonce, EmployerCommunication.version)
                             .where(EmployerCommunication.id == communication_id)).one()
    db.session.rollback()
    return tuple(row)


def test_the_acknowledgement_link_works_once_without_an_account(web, inbox, ctx):
    director = new_director()
    employer_id = make_employer(director, contact_name="Robin Contact")
    send_awareness_email(web, director, employer_id)
    communication_id = awareness_communication(employer_id).id
    address = db.session.get(Employer, employer_id).contact_email
    link = LINK_RE.search(body_of(next(m for m in deliver(inbox) if m["To"] == address))).group(1)
    visitor = web(None)

    # Opening the link (as a mail scanner would) records nothing.
    opened = visitor.get(link)
    assert opened.status_code == 200 and "Confirm" in page_text(opened)
    assert link_state(communication_id)[0] is None
    before = audit_count()

    confirmed = visitor.post(link, data={"csrf_token": csrf_token(opened.get_data(as_text=True))})
    assert confirmed.status_code == 200 and "Thank you" in page_text(confirmed)
    acknowledged_on, acknowledged_by, nonce, version = link_state(communication_id)
    assert (acknowledged_on, acknowledged_by, nonce) == (TODAY, "Robin Contact", None)
    assert audit_count() == before + 1
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "EmployerCommunication", AuditEvent.entity_id == str(communication_id))
        .order_by(AuditEvent.seq.desc())).first()
    assert (event.actor, event.actor_id, event.action) == ("system:acknowledgement-link", None, "acknowledge_by_link")
    db.session.rollback()

    # Used twice: said politely, and nothing more recorded.
    again = visitor.get(link)
    assert again.status_code == 410 and "recorded already" in page_text(again)
    again = visitor.post(link, data={"csrf_token": csrf_token(opened.get_data(as_text=True))})
    assert again.status_code == 410 and "recorded already" in page_text(again)
    assert link_state(communication_id) == (acknowledged_on, acknowledged_by, None, version)
    assert audit_count() == before + 1

    page = page_text(web(director).get(f"/employers/{employer_id}"))
    assert f"Acknowledged {TODAY:%d %b %Y} by Robin Contact" in page


def token_signed(days_ago: float, communication: EmployerCommunication) -> str:
    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days_ago * 24 * 60 * 60)

    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="employer-ack", signer=SignedThen)
    return serializer.dumps([communication.id, communication.ack_nonce])


def test_an_expired_link_is_refused_politely_and_records_nothing(web, ctx, app):
    director = new_director()
    employer_id = make_employer(director)
    send_awareness_email(web, director, employer_id)
    communication = awareness_communication(employer_id)
    days = app.config["EMPLOYER_ACK_LINK_DAYS"]
    visitor = web(None)

    still_valid = visitor.get(f"/employer-acknowledgement/{token_signed(days - 0.1, communication)}")
    assert still_valid.status_code == 200
    token = csrf_token(still_valid.get_data(as_text=True))
    expired = f"/employer-acknowledgement/{token_signed(days + 0.1, communication)}"
    before, state = audit_count(), link_state(communication.id)
    for response in (visitor.get(expired), visitor.post(expired, data={"csrf_token": token})):
        assert response.status_code == 410 and "This link has expired" in page_text(response)
    assert link_state(communication.id) == state and state[0] is None and state[2] is not None
    assert audit_count() == before


def flip_first(text: str) -> str:
    # The first character: the last one of unpadded base64 may carry only padding bits, and a change there is no change.
    return ("A" if text[0] != "A" else "B") + text[1:]


def test_an_altered_link_is_refused_and_records_nothing(web, ctx, app):
    director = new_director()
    employer_id = make_employer(director)
    send_awareness_email(web, director, employer_id)
    communication = awareness_communication(employer_id)
    genuine = awareness.acknowledgement_url(communication).rsplit("/", 1)[1]
    payload, timestamp, signature = genuine.rsplit(".", 2)
    other_key = URLSafeTimedSerializer("another-secret", salt="employer-ack").dumps([communication.id,
                                                                                     communication.ack_nonce])
    other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="password-reset").dumps(
        [communication.id, communication.ack_nonce])
    altered = [f"{payload}.{timestamp}.{flip_first(signature)}", f"{flip_first(payload)}.{timestamp}.{signature}",
               f"{payload}.{flip_first(timestamp)}.{signature}", genuine[:40], other_key, other_salt, "nonsense"]
    visitor = web(None)
    token = csrf_token(visitor.get(f"/employer-acknowledgement/{genuine}").get_data(as_text=True))
    before, state = audit_count(), link_state(communication.id)
    for link in altered:
        for response in (visitor.get(f"/employer-acknowledgement/{link}"),
                         visitor.post(f"/employer-acknowledgement/{link}", data={"csrf_token": token})):
            assert response.status_code == 400, link
            assert "This link does not work" in page_text(response)
    assert link_state(communication.id) == state and audit_count() == before
    # The genuine link still works afterwards.
    assert visitor.post(f"/employer-acknowledgement/{genuine}", data={"csrf_token": token}).status_code == 200


def test_the_link_needs_the_confirm_pages_csrf_token(web, ctx):
    director = new_director()
    employer_id = make_employer(director)
    send_awareness_email(web, director, employer_id)
    communication = awareness_communication(employer_id)
    link = awareness.acknowledgement_url(communication).split("/employer-acknowledgement/")[1]
    response = web(None).post(f"/employer-acknowledgement/{link}")
    assert response.status_code == 400
    assert link_state(communication.id)[0] is None


def test_a_manually_recorded_acknowledgement_spends_the_link(web, ctx):
    director = new_director()
    employer_id = make_employer(director)
    send_awareness_email(web, director, employer_id)
    communication = awareness_communication(employer_id)
    link = awareness.acknowledgement_url(communication).split("/employer-acknowledgement/")[1]
    employers.record_acknowledgement(user(director), employer_id, communication.id,
                                     {"acknowledged_on": TODAY.isoformat(), "acknowledged_by": "Replied by email"})
    assert web(None).get(f"/employer-acknowledgement/{link}").status_code == 410


# --- 5. coverage --------------------------------------------------------------------------------------------------

def coverage_as(api, username: str) -> dict:
    response = api(username).get("/api/v1/employer/coverage")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["result"]


def test_coverage_matches_hand_computed_figures_with_inactive_employers_left_out(web, api, ctx):
    before = coverage_as(api, "lead")["overall"]
    x, y = new_director("Xena"), new_director("Yusuf")
    year_ago = TODAY - relativedelta(months=12)
    covered_recently = make_employer(x)  # acknowledged 3 months ago: covered
    log(x, covered_recently, TODAY - relativedelta(months=3), TODAY - relativedelta(months=3))
    lapsed = make_employer(x)  # acknowledged 13 months ago: overdue
    log(x, lapsed, TODAY - relativedelta(months=13), TODAY - relativedelta(months=13))
    unacknowledged = make_employer(x)  # contacted last month, never acknowledged: overdue
    log(x, unacknowledged, TODAY - relativedelta(months=1))
    on_the_anniversary = make_employer(x)  # acknowledged exactly 12 months ago: still covered today
    log(x, on_the_anniversary, year_ago, year_ago)
    inactive_covered = make_employer(x, active=False)  # inactive: counts nowhere
    log(x, inactive_covered, TODAY - relativedelta(months=1), TODAY - relativedelta(months=1))
    make_employer(x, active=False)
    never = make_employer(y)  # active, never contacted: overdue
    inactive_lapsed = make_employer(y)
    log(y, inactive_lapsed, TODAY - relativedelta(months=13), TODAY - relativedelta(months=13))
    employers.update_employer(user(y), inactive_lapsed, {"active": False})

    result = coverage_as(api, "lead")
    rows = {row["director_id"]: row for row in result["by_director"]}
    assert rows[user(x).id] == {"director": f"Xena {user(x).last_name}", "director_id": user(x).id,
                                "active": 4, "covered": 2, "overdue": 2, "percent": 50.0}
    assert rows[user(y).id] == {"director": f"Yusuf {user(y).last_name}", "director_id": user(y).id,
                                "active": 1, "covered": 0, "overdue": 1, "percent": 0.0}
    overall = result["overall"]
    assert (overall["active"] - before["active"], overall["covered"] - before["covered"]) == (5, 2)
    assert overall["percent"] == round(100 * overall["covered"] / overall["active"], 1)
    overdue_ids = {row["id"] for row in result["overdue"]}
    assert {lapsed, unacknowledged, never} <= overdue_ids
    assert not {covered_recently, on_the_anniversary, inactive_covered, inactive_lapsed} & overdue_ids

    # Governance: the same figures, without names.
    governance = coverage_as(api, "governance")
    assert governance["overall"] == overall
    assert sorted((r["active"], r["covered"]) for r in governance["by_director"]) == sorted(
        (r["active"], r["covered"]) for r in result["by_director"])
    assert not {f"Xena {user(x).last_name}", f"Yusuf {user(y).last_name}"} & {r["director"] for r in
                                                                                governance["by_director"]}
    # The Lead's page names them and lists the overdue employers.
    page = page_text(web("lead").get("/coverage/"))
    assert f"Xena {user(x).last_name} 4 2 2 50%" in page
    assert db.session.get(Employer, never).name in page
    assert db.session.get(Employer, covered_recently).name not in page

    # The day after the anniversary, that acknowledgement has lapsed.
    tomorrow = employers.coverage(db.session, user("lead"), TODAY + timedelta(days=1))
    assert next(row.figures for row in tomorrow.by_director if row.director_id == user(x).id) == employers.Figures(4, 1)
    assert on_the_anniversary in {employer.id for employer, _ in tomorrow.overdue}


# --- 6. reminders -------------------------------------------------------------------------------------------------

def run_reminders(today: date) -> notify.ReminderReport:
    with unit_of_work() as session:
        return notify.run_reminders(session, today)


def reminders_to(messages, username: str) -> list:
    return [m for m in messages if m["To"] == f"{username}@example.org"
            and m["Subject"] == "An employer is due a Prevent contact"]


def test_the_director_is_reminded_once_when_an_employer_falls_due(web, inbox, ctx):
    director = new_director()
    lapsed = make_employer(director)
    log(director, lapsed, TODAY - relativedelta(months=13), TODAY - relativedelta(months=13))
    current = make_employer(director)
    log(director, current, TODAY - relativedelta(months=2), TODAY - relativedelta(months=2))
    inactive = make_employer(director, active=False)

    run_reminders(TODAY)
    messages = reminders_to(deliver(inbox), director)
    assert len(messages) == 1
    body = body_of(messages[0])
    assert f"/employers/{lapsed}" in body
    assert db.session.get(Employer, lapsed).name not in body
    assert f"/employers/{inactive}" not in body

    run_reminders(TODAY)
    run_reminders(TODAY + timedelta(days=1))
    assert reminders_to(deliver(inbox), director) == []

    # Contact made and acknowledged: the next reminder comes when the next contact falls due, once.
    log(director, lapsed, TODAY, TODAY)
    run_reminders(TODAY + timedelta(days=2))
    assert reminders_to(deliver(inbox), director) == []
    next_due = TODAY + relativedelta(months=10)  # the current employer's next contact, 12 months after 2 months ago
    run_reminders(next_due)
    run_reminders(next_due)
    messages = reminders_to(deliver(inbox), director)
    assert [f"/employers/{current}" in body_of(m) for m in messages] == [True]


def test_directors_are_told_what_they_receive(web, ctx):
    director = new_director()
    page = page_text(web(director).get("/my-email/"))
    assert "An employer you are responsible for falls due a Prevent contact." in page
