"""Test fixtures: one app per test session (Flask-AppBuilder allows one per process) on a real database.

SQLite in a temporary file by default; PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The schema is built by
the Alembic migrations, exactly as in production, and the roles and reference data by the same CLI code.
"""
from __future__ import annotations

import asyncio
import email
import itertools
import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

ROLE_USERS = {
    "staff": "Staff",
    "staff2": "Staff",
    "officer": "Safeguarding Officer",
    "officer2": "Safeguarding Officer",
    "lead": "Prevent Lead",
    "director": "Programme Director",
    "governance": "Governance",
    "admin": "Admin",
}
PASSWORD = "correct-horse-battery-staple-42"
# The authenticator secret of every test user who must use a second factor (officers, the Lead, the Admin).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)


def _reset_database(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class RequestPerAppContextClient(FlaskClient):
    """Each request in an app context of its own, as in production.

    A test holds an app context open (for the services it calls), and Flask reuses it for requests: `g`, and with it
    Flask-Login's signed-in user, would then leak from one client's request to another's.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class RecordingSMTPHandler:
    """A real SMTP server's handler: keeps every message it accepts, can be told to refuse the next few, and to take
    `delay` seconds over each message (a slow relay; connections are still served at the same time)."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.refuse_next = 0
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 4.3.0 Mailbox busy, try again later"
            message = email.message_from_bytes(envelope.original_content or envelope.content)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.messages.append(message)
        return "250 OK"

    def take(self) -> list[email.message.Message]:
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSMTPServer:
    """aiosmtpd on a fixed local port, which a test may stop (the server is down) and start again."""

    def __init__(self):
        self.handler = RecordingSMTPHandler()
        self.hostname, self.port = "127.0.0.1", _free_port()
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname=self.hostname, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="session")
def smtp_server():
    server = LocalSMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def inbox(ctx, smtp_server):
    """The SMTP server's inbox, emptied of what other tests left queued or delivered, accepting again."""
    from app import outbox
    outbox.deliver_due()
    smtp_server.handler.take()
    smtp_server.handler.refuse_next = 0
    yield smtp_server.handler
    smtp_server.handler.refuse_next = 0
    smtp_server.handler.delay = 0.0


def deliver(inbox) -> list:
    """Delivers everything queued (all of it accepted) and returns what the server received."""
    from app import outbox
    report = outbox.deliver_due()
    assert report.failed == 0 and report.retrying == 0, str(report)
    return inbox.take()


@pytest.fixture(scope="session")
def app(tmp_path_factory, smtp_server):
    tmp = tmp_path_factory.mktemp("prevent")
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        from config import _sqlalchemy_url
        url = _sqlalchemy_url(url)
        _reset_database(url)
    else:
        url = f"sqlite:///{tmp / 'test.db'}"

    from app import create_app
    from config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        AUDIT_HEAD_PATH = str(tmp / "audit-head.json")
        MAIL_SERVER = smtp_server.hostname
        MAIL_PORT = smtp_server.port

    application = create_app(Config)
    application.test_client_class = RequestPerAppContextClient
    with application.app_context():
        from flask_migrate import upgrade

        from app.cli import sync_roles
        from app.seed import seed_reference

        upgrade()
        sync_roles()
        seed_reference()
        from app.security import mfa_required
        from app.services import mfa
        sm = application.appbuilder.sm
        for username, role in ROLE_USERS.items():
            person = sm.add_user(username, username.capitalize(), "Tester", f"{username}@example.org",
                                 sm.find_role(role), PASSWORD)
            if mfa_required(person):
                mfa.enrol_with_secret(person, TOTP_SECRET, actor="system:tests")
    yield application


@pytest.fixture(scope="session")
def raw_engine(app):
    """A connection pool of its own, as someone with database access but not the app would have."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    # A lock wait would mean a test left a transaction open: fail after 10 s rather than hang.
    kwargs = {"connect_args": {"options": "-c lock_timeout=10000"}} if url.startswith("postgresql") else {}
    engine = sa.create_engine(url, **kwargs)
    yield engine
    engine.dispose()


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield
        from app.extensions import db
        db.session.rollback()
        db.session.remove()


def user(name: str):
    from flask import current_app
    return current_app.appbuilder.sm.find_user(name)


def totp_code(username: str) -> str | None:
    """A code for the user's next sign-in, or None when they have no second factor. Users who must have one and
    have not (made by a test after set-up) are enrolled with TOTP_SECRET, as at set-up.

    A code is accepted once only (its time-step must be later than the last one accepted), and the fixtures sign the
    same users in many times a second: so the user's last accepted step is forgotten first, in a transaction of its
    own. tests/test_mfa.py tests the refusal of a used code with users of its own, which nothing forgets.
    """
    import pyotp
    from flask import current_app

    from app.extensions import db
    from app.models import SecondFactor
    from app.security import mfa_required
    from app.services import mfa
    person = user(username)
    with db.engine.begin() as connection:
        sealed = connection.execute(
            sa.update(SecondFactor).where(SecondFactor.user_id == person.id, SecondFactor.enrolled_at.is_not(None))
            .values(last_step=None).returning(SecondFactor.secret_sealed)).scalar()
    secret = mfa.open_secret(sealed) if sealed else None
    if secret is None and mfa_required(person):
        with current_app.app_context():  # a session of its own: the test's is left as it is
            mfa.enrol_with_secret(person, TOTP_SECRET, actor="system:tests")
        secret = TOTP_SECRET
    return pyotp.TOTP(secret).now() if secret else None


def complete_second_step(client, username: str, **request_options) -> None:
    """The web sign-in's second step, for a client whose password sign-in just went through."""
    code = totp_code(username)
    if code is None:
        return
    page = client.get("/two-step/verify", **request_options)
    response = client.post("/two-step/verify", **request_options,
                           data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302, "second step failed"


def sign_out(client):
    """Signs the client out as the Sign out button does: a POST with the form token (a GET only shows the button)."""
    page = client.get("/logout/", follow_redirects=True).get_data(as_text=True)
    return client.post("/logout/", data={"csrf_token": csrf_token(page)})


def sign_in_browser(page, app, username: str) -> None:
    """Signs a Playwright page in through the login form, and through the second step where the user has one."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    with app.app_context():
        code = totp_code(username)
    if code is not None:
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Continue").click()
    # Sign out in the user menu (a form's button) is there only once signed in: the second step's bar has no menu.
    page.wait_for_selector(".dropdown-menu form[action*='logout']", state="attached")


def deactivate(usernames: list[str]) -> None:
    """Users a test made for itself leave with it: later tests count who is told of a new concern."""
    from app.extensions import db
    db.session.rollback()
    for name in usernames:
        user(name).active = False
    db.session.commit()


@pytest.fixture()
def new_user(app, ctx):
    """new_user(role) adds a user of the test's own, with the shared password, deactivated when the test ends."""
    made: list[str] = []

    def make(role: str = "Safeguarding Officer", prefix: str = "user") -> str:
        sm = app.appbuilder.sm
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        assert sm.add_user(name, prefix.capitalize(), "Tester", f"{name}@example.org", sm.find_role(role), PASSWORD)
        made.append(name)
        return name

    yield make
    deactivate(made)


@pytest.fixture()
def users(ctx):
    class Users:
        def __getattr__(self, name):
            return user(name)
    return Users()


def concern_payload(**overrides) -> dict[str, Any]:
    n = next(_counter)
    payload = {
        "subject": {"full_name": f"Test Subject {n}", "subject_type": "learner", "date_of_birth": "2008-01-02"},
        "description": f"Concern text {n}: said \"something worrying\".",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "location": "Room 4",
        "indicator_ids": [],
        "immediate_danger": False,
    }
    payload.update(overrides)
    return payload


# Valid data for every event, enough to take it; the target follows from the workflow table.
EVENT_DATA: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "close": {"outcome": "no_further_action"},
    "refer_to_police": {"referral_date": date.today().isoformat(), "subject_informed": False},
    "record_gateway_outcome": {"outcome": "channel", "decided_on": date.today().isoformat()},
    "close_police_led": {},
    "schedule_panel": {"panel_date": date.today().isoformat(), "local_authority": "Test Council"},
    "screen_out": {},
    "record_panel_decision": {"decision": "adopted", "consent": "given"},
    "exit_support": {"exit_date": date.today().isoformat(), "exit_reason": "Plan completed"},
    "record_review": {"review": "6_months", "outcome_note": "Doing well"},
    "reopen": {},
}

# The shortest path of events from `reported` to each state.
PATH_TO: dict[str, list[tuple[str, dict]]] = {
    "reported": [],
    "under_review": [("acknowledge", {})],
}
PATH_TO["referred_to_police"] = PATH_TO["under_review"] + [("refer_to_police", {})]
PATH_TO["channel_screening"] = PATH_TO["referred_to_police"] + [("record_gateway_outcome", {"outcome": "channel"})]
PATH_TO["police_led"] = PATH_TO["referred_to_police"] + [("record_gateway_outcome", {"outcome": "police_led"})]
PATH_TO["channel_panel"] = PATH_TO["channel_screening"] + [("schedule_panel", {})]
PATH_TO["channel_support"] = PATH_TO["channel_panel"] + [("record_panel_decision", {})]
PATH_TO["post_exit_review"] = PATH_TO["channel_support"] + [("exit_support", {})]
PATH_TO["closed"] = PATH_TO["under_review"] + [("close", {})]


def make_case(reporter: str = "staff", state: str = "reported", **overrides):
    """A case raised by `reporter` and moved by the officer to `state`, through the services."""
    from app.services import cases
    case = cases.raise_concern(user(reporter), concern_payload(**overrides))
    for event, data in PATH_TO[state]:
        cases.transition(user("officer") if event != "reopen" else user("lead"), case.id,
                         {"event": event, "reason": f"Reason for {event}", **EVENT_DATA[event], **data})
    return case.id


@dataclass
class ApiClient:
    client: Any
    token: str | None

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(), **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(), **kw)

    def put(self, url, json=None, **kw):
        return self.client.put(url, json=json, headers=self._headers(), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(), **kw)


@pytest.fixture()
def api(app, ctx):
    """api("officer") is a client signed in to the API as that user; api(None) is anonymous."""
    tokens: dict[str, str] = {}

    def make(username: str | None) -> ApiClient:
        client = app.test_client()
        if username is None:
            return ApiClient(client, None)
        if username not in tokens:
            response = client.post("/api/v1/security/login",
                                   json={"username": username, "password": PASSWORD, "provider": "db",
                                         **({"totp": code} if (code := totp_code(username)) else {})})
            assert response.status_code == 200, response.get_json()
            tokens[username] = response.get_json()["access_token"]
        return ApiClient(client, tokens[username])

    return make


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture()
def web(app, ctx):
    """web("officer") is a browser-like test client signed in through the login page."""

    def make(username: str | None):
        client = app.test_client()
        if username is not None:
            page = client.get("/login/")
            response = client.post("/login/", data={"username": username, "password": PASSWORD,
                                                    "csrf_token": csrf_token(page.get_data(as_text=True))})
            assert response.status_code == 302, "login failed"
            complete_second_step(client, username)
        return client

    return make
