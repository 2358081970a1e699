"""Test fixtures: one app per test session (Flask-AppBuilder allows one per process) on a real database.

SQLite in a temporary file by default; PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The schema is built by
the Alembic migrations, exactly as in production, and the roles and reference data by the same CLI code.
"""
from __future__ import annotations

import asyncio
import email
import os
import re
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

# The builders of test data live in tests/factories.py; test modules import them from here too.
from tests.factories import EVENT_DATA, PASSWORD, PATH_TO, concern_payload, make_case, make_user, user  # noqa: F401

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
# The authenticator secret of every test user who must use a second factor (officers, the Lead, the Admin).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@sa.event.listens_for(sa.engine.Engine, "connect")
def _commit_without_waiting_for_the_disk(dbapi_connection, connection_record) -> None:
    """Test databases are thrown away, so a commit here does not wait for the disk: SQLite's synchronous=OFF,
    PostgreSQL's synchronous_commit=off, on every connection the test process opens. Locking, isolation and what a
    commit makes visible to other connections are unchanged; only surviving a power cut is given up. (On a busy
    disk a waited-for commit costs 8-20 ms, and the suite commits tens of thousands of times.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET in a transaction would be undone by the next rollback
        dbapi_connection.execute("SET synchronous_commit = off")
        dbapi_connection.autocommit = autocommit


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker has a PostgreSQL database of its own, named after TEST_DATABASE_URL's with the
    worker's id added (test -> test_gw0), made with CREATE DATABASE if missing (the server's trust auth, as in CI)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = sa.engine.make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    server = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
            conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
    server.dispose()
    return own.render_as_string(hide_password=False)


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
        url = _worker_database(_sqlalchemy_url(url))
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
        made.append(make_user(role, prefix))
        return made[-1]

    yield make
    deactivate(made)


@pytest.fixture()
def users(ctx):
    class Users:
        def __getattr__(self, name):
            return user(name)
    return Users()


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


def _session_version(username: str) -> int:
    from app.sessions import current_version
    return current_version(user(username).id)


@pytest.fixture(scope="session")
def api_tokens() -> dict[str, tuple[str, int, float]]:
    """API access tokens by username, each with the user's session version and the time it was issued: signed in once
    per worker session, not once per test."""
    return {}


# A kept token is used only while it is young: it expires after JWT_ACCESS_TOKEN_EXPIRES (15 minutes in tests).
TOKEN_REUSE_SECONDS = 5 * 60


@pytest.fixture()
def api(app, ctx, api_tokens):
    """api("officer") is a client signed in to the API as that user; api(None) is anonymous.

    The token is the one this worker already has for the user, while it holds (no sign-out, password, role or
    active-flag change since, and young): otherwise the user signs in again.
    """

    def make(username: str | None) -> ApiClient:
        client = app.test_client()
        if username is None:
            return ApiClient(client, None)
        version = _session_version(username)
        kept = api_tokens.get(username)
        if kept is None or kept[1] != version or time.monotonic() - kept[2] > TOKEN_REUSE_SECONDS:
            response = client.post("/api/v1/security/login",
                                   json={"username": username, "password": PASSWORD, "provider": "db",
                                         **({"totp": code} if (code := totp_code(username)) else {})})
            assert response.status_code == 200, response.get_json()
            api_tokens[username] = (response.get_json()["access_token"], version, time.monotonic())
        return ApiClient(client, api_tokens[username][0])

    return make


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _signed_in_client(app, username: str):
    client = app.test_client()
    page = client.get("/login/")
    response = client.post("/login/", data={"username": username, "password": PASSWORD,
                                            "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302, "login failed"
    complete_second_step(client, username)
    return client


@dataclass
class KeptClient:
    """A client signed in once per worker session: the session as sign-in left it, and the version it was stamped
    with (a sign-out, or a password, role or active-flag change, raises the version and ends it)."""
    client: Any
    session: dict[str, Any]
    version: int


@pytest.fixture(scope="session")
def web_clients() -> dict[str, KeptClient]:
    return {}


@pytest.fixture()
def web(app, ctx, web_clients):
    """web("officer") is a browser-like test client signed in through the login page; web(None) is anonymous.

    A test's first client for a user is the one this worker keeps for that user, its session put back as sign-in left
    it (no flashes, form tokens or anything else from an earlier test; now its last activity), while that session
    holds; otherwise the user signs in afresh. A second client for the same user in one test is a new sign-in, a
    session of its own, as a test that asks twice expects.
    """
    from app.sessions import SEEN_AT
    handed_out: set[str] = set()

    def make(username: str | None):
        if username is None:
            return app.test_client()
        if username in handed_out:
            return _signed_in_client(app, username)
        handed_out.add(username)
        version = _session_version(username)
        kept = web_clients.get(username)
        if kept is None or kept.version != version:
            client = _signed_in_client(app, username)
            with client.session_transaction() as session:
                kept = web_clients[username] = KeptClient(client, dict(session), version)
        kept.client._cookies.clear()  # only the session cookie, written afresh below, is carried over
        with kept.client.session_transaction() as session:
            session.clear()
            session.update(kept.session, **{SEEN_AT: int(time.time())})
        return kept.client

    return make
