"""Test fixtures: one app per test session (Flask-AppBuilder allows one per process) on a real database.

SQLite in a temporary file by default; PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The schema is built by
the Alembic migrations, exactly as in production, and the roles and reference data by the same CLI code.

Isolation (the `_database` fixture below): every test that uses the app runs inside one transaction on one connection,
rolled back when it ends; every session the app makes during the test (the test's own, each request's) joins it with
a SAVEPOINT of its own, so that the services' commits are savepoint releases and nothing outlives the test. A test
marked `commits` (several connections, threads, other processes, raw SQL from a connection of its own) gets instead
a database of its own, a fresh copy of the worker's database as set-up left it, dropped when it ends.
"""
from __future__ import annotations

import asyncio
import email
import itertools
import os
import re
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import appcontext_pushed
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

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
    """Each request in an app context of its own, as in production (each redirect followed too, once the request
    before it has ended).

    A test holds an app context open (for the services it calls), and Flask reuses it for requests: `g`, and with it
    Flask-Login's signed-in user, would then leak from one client's request to another's.
    """

    def run_wsgi_app(self, environ, buffered=False):
        with self.application.app_context():
            return super().run_wsgi_app(environ, buffered=buffered)


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
    """The SMTP server's inbox, emptied of what was queued before the test (a module's data made once) or delivered
    for earlier tests, accepting again."""
    from app.notifications import outbox
    outbox.deliver_due()
    smtp_server.handler.take()
    smtp_server.handler.refuse_next = 0
    yield smtp_server.handler
    smtp_server.handler.refuse_next = 0
    smtp_server.handler.delay = 0.0


def deliver(inbox) -> list:
    """Delivers everything queued (all of it accepted) and returns what the server received."""
    from app.notifications import outbox
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
        AUDIT_HEAD_PATH = str(tmp / "heads" / "set-up" / "audit-head.json")
        MAIL_SERVER = smtp_server.hostname
        MAIL_PORT = smtp_server.port

    application = create_app(Config)
    application.test_client_class = RequestPerAppContextClient
    with application.app_context():
        from flask_migrate import upgrade

        from app.cli import sync_roles
        from app.extensions import db
        from app.seed import seed_reference

        upgrade()
        sync_roles()
        seed_reference()
        from app.identity import two_step
        from app.kernel.security import mfa_required
        sm = application.appbuilder.sm
        for username, role in ROLE_USERS.items():
            person = sm.add_user(username, username.capitalize(), "Tester", f"{username}@example.org",
                                 sm.find_role(role), PASSWORD)
            if mfa_required(person):
                two_step.enrol_with_secret(person, TOTP_SECRET, actor="system:tests")
        versions = {username: _session_version(username) for username in ROLE_USERS}
        db.session.remove()
        engine = db.engine
    _SET_UP.update(_Template.take(application, engine, tmp, versions))
    yield application
    _SET_UP["template"].discard()


# --- isolation: each test in a transaction rolled back, or (marked `commits`) in a database of its own ----------

@dataclass
class _Template:
    """The worker's database as set-up left it (committed, once, before any test), and what tests start from."""
    tmp: Path
    url: str  # the worker's database: the isolated tests' transactions run, and are rolled back, in it
    engine: sa.engine.Engine  # the connections of the isolated tests
    copy_from: str  # a copy of it for the tests marked `commits`: a file (SQLite), a template database (PostgreSQL)
    heads: Path  # the audit and access log head files as set-up left them
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def take(cls, app, engine: sa.engine.Engine, tmp: Path, versions: dict[str, int]) -> dict[str, Any]:
        heads = Path(app.config["AUDIT_HEAD_PATH"]).parent
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()  # nothing may be connected to a database being copied
        if engine.dialect.name == "sqlite":
            copy_from = str(tmp / "template.db")
            shutil.copyfile(engine.url.database, copy_from)
            isolated = sa.create_engine(url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
            # pysqlite's own transaction handling emits no BEGIN before a SAVEPOINT and commits before DDL: switch it
            # off and emit BEGIN ourselves (SQLAlchemy's documented workaround), for these connections only.
            event.listen(isolated, "connect", _pysqlite_without_its_transactions)
            event.listen(isolated, "begin", _pysqlite_begin)
        else:
            copy_from = f"{engine.url.database}_template"
            with _server(url) as server:
                # Copies an interrupted run left behind.
                left = server.scalars(sa.text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                                      {"prefix": f"{engine.url.database}_commits_"}).all()
                for name in left:
                    server.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                server.execute(sa.text(f'DROP DATABASE IF EXISTS "{copy_from}"'))
                server.execute(sa.text(f'CREATE DATABASE "{copy_from}" TEMPLATE "{engine.url.database}"'))
            isolated = engine
        return {"template": cls(tmp, url, isolated, copy_from, heads), "versions": versions}

    def heads_copy(self, source: Path | None = None) -> Path:
        """A folder of head files of the test's own, as `source` (set-up's by default) holds them."""
        own = Path(tempfile.mkdtemp(prefix="heads-", dir=self.tmp))
        for head in (source or self.heads).glob("*.json"):
            shutil.copyfile(head, own / head.name)
        return own

    def new_database(self) -> str:
        """A fresh copy of the worker's database as set-up left it; its URL."""
        number = next(self.numbers)
        if self.engine.dialect.name == "sqlite":
            path = self.tmp / f"commits-{number}.db"
            shutil.copyfile(self.copy_from, path)
            return f"sqlite:///{path}"
        base = sa.make_url(self.url)
        name = f"{base.database}_commits_{number}"
        with _server(self.url) as server:
            server.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.copy_from}"'))
        return base.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        own = sa.make_url(url)
        if own.get_backend_name() == "sqlite":
            Path(own.database).unlink(missing_ok=True)
            return
        with _server(self.url) as server:
            server.execute(sa.text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))

    def discard(self) -> None:
        self.engine.dispose()
        if self.engine.dialect.name != "sqlite":
            with _server(self.url) as server:
                server.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.copy_from}"'))


_SET_UP: dict[str, Any] = {}


@contextmanager
def _server(url: str) -> Iterator[sa.Connection]:
    server = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            yield conn
    finally:
        server.dispose()


def _pysqlite_without_its_transactions(dbapi_connection, connection_record) -> None:
    dbapi_connection.isolation_level = None


def _pysqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN")


# Every real COMMIT, on any engine: a test not marked `commits` must make none (see `_rolled_back`).
_REAL_COMMITS: list[str] = []


@event.listens_for(sa.engine.Engine, "commit")
def _count_real_commit(conn) -> None:
    _REAL_COMMITS.append(repr(conn.engine.url))


# Whether a session wrote in its current transaction (flushed, or ran an INSERT, UPDATE or DELETE).
_WROTE = "tests_wrote"


@event.listens_for(Session, "after_flush")
def _note_flush(session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def _sessions():
    from app.extensions import db
    return db.session.registry.registry  # the scoped session's sessions, one per app context still open


def _end_reads_of_other_sessions(sender, **extra) -> None:
    """A new app context (a request, a session of its own) is starting: the sessions of the app contexts already open
    end their read-only transactions first, keeping what they loaded (committing them changes nothing).

    All sessions share the test's connection, each in a SAVEPOINT of its own: a savepoint left open across a request
    would hold the request's savepoint inside it, and rolling it back later (the audit check does, so do tests)
    would undo what the request committed. A session holding changes it has not committed when another starts is a
    test that relies on the other not seeing them: that cannot be shown on one connection, so it is refused."""
    if not _MODES or _MODES[-1] is not _rolled_back:
        return  # a test marked `commits` (inside a module's rolled-back data): its sessions are its own
    if threading.get_ident() != _TEST_THREADS[-1]:
        # A live server's thread would share the test's one connection with the test: no connection is safe so.
        _FOREIGN_THREADS.append(threading.current_thread().name)
        raise RuntimeError("A request served on another thread (a live server) during a rolled-back test: mark the "
                           "test `commits` to give it a database of its own.")
    for session in list(_sessions().values()):
        if not session.in_transaction():
            continue
        if (session.info.get(_WROTE) or session.new or session.deleted
                or any(session.is_modified(obj) for obj in session.dirty)):
            raise RuntimeError("A session holds changes it has not committed while another app context (a request, "
                               "a session of its own) starts: commit or roll them back first, or mark the test "
                               "`commits` to give it a database of its own.")
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire


def _close_sessions() -> None:
    sessions = _sessions()
    for session in list(sessions.values()):
        session.close()
    sessions.clear()


@contextmanager
def _bound_to(app, bind, heads: Path, url: str | None = None) -> Iterator[None]:
    """Every session of the app, and `db.engine`, on `bind`; the head files in `heads`; then back as they were."""
    from app.extensions import db
    with app.app_context():
        engines = db.engines  # Flask-SQLAlchemy's own mapping for this app: sessions and db.engine read it
    kept = engines[None], app.config["AUDIT_HEAD_PATH"], app.config["SQLALCHEMY_DATABASE_URI"]
    engines[None] = bind
    app.config["AUDIT_HEAD_PATH"] = str(heads / "audit-head.json")
    if url:
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    try:
        yield
    finally:
        _close_sessions()
        engines[None], app.config["AUDIT_HEAD_PATH"], app.config["SQLALCHEMY_DATABASE_URI"] = kept


_ROLLED_BACK: list[tuple[sa.Connection, Path]] = []  # the open rolled-back transactions, innermost last
_TEST_THREADS: list[int] = []  # the thread each of them belongs to
_FOREIGN_THREADS: list[str] = []  # threads that pushed an app context into a rolled-back test
_MODES: list[Any] = []  # _rolled_back or _own_database, innermost last


@contextmanager
def _rolled_back(app) -> Iterator[None]:
    """One connection, one transaction, rolled back at the end; every session of the app joins it through a
    SAVEPOINT of its own (join_transaction_mode="create_savepoint"), so that their commits are savepoint releases.
    Inside another (a module's data, made once), the test's transaction is a SAVEPOINT of the module's."""
    from app.extensions import db
    template: _Template = _SET_UP["template"]
    if _ROLLED_BACK:
        connection, outer_heads = _ROLLED_BACK[-1]
        transaction = connection.begin_nested()
        heads = template.heads_copy(outer_heads)
    else:
        connection = template.engine.connect()
        transaction = connection.begin()
        heads = template.heads_copy()
    factory = db.session.session_factory
    factory.kw["join_transaction_mode"] = "create_savepoint"
    if not _ROLLED_BACK:
        appcontext_pushed.connect(_end_reads_of_other_sessions, app)
    _ROLLED_BACK.append((connection, heads))
    _TEST_THREADS.append(threading.get_ident())
    _MODES.append(_rolled_back)
    commits_before, foreign_before = len(_REAL_COMMITS), len(_FOREIGN_THREADS)
    try:
        with _bound_to(app, connection, heads):
            yield
    finally:
        _MODES.pop()
        _ROLLED_BACK.pop()
        _TEST_THREADS.pop()
        if not _ROLLED_BACK:
            appcontext_pushed.disconnect(_end_reads_of_other_sessions, app)
            factory.kw.pop("join_transaction_mode", None)
        transaction.rollback()
        if not _ROLLED_BACK:
            connection.close()
        shutil.rmtree(heads, ignore_errors=True)
    foreign = _FOREIGN_THREADS[foreign_before:]
    del _FOREIGN_THREADS[foreign_before:]
    if foreign:
        pytest.fail(f"Requests served on other threads ({foreign[0]}) during a test that is not marked `commits`: a "
                    "live server needs a database of its own.", pytrace=False)
    made = _REAL_COMMITS[commits_before:]
    del _REAL_COMMITS[commits_before:]
    if made:
        pytest.fail(f"{len(made)} real COMMIT(s) during a test that is not marked `commits` ({made[0]}): a test "
                    "commits only into a database of its own.", pytrace=False)


@contextmanager
def _own_database(app) -> Iterator[None]:
    """A fresh copy of the worker's database as set-up left it, with head files of its own, dropped at the end.
    (Inside a module's rolled-back data, the test sees none of it: its database is set-up's.)"""
    template: _Template = _SET_UP["template"]
    url = template.new_database()
    engine = sa.create_engine(url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    heads = template.heads_copy()
    _MODES.append(_own_database)
    commits_before = len(_REAL_COMMITS)
    try:
        with _bound_to(app, engine, heads, url):
            yield
    finally:
        del _REAL_COMMITS[commits_before:]  # into its own database: allowed
        _MODES.pop()
        engine.dispose()
        template.drop_database(url)
        shutil.rmtree(heads, ignore_errors=True)


@pytest.fixture(autouse=True)
def _database(request):
    """Every test that uses the app: in a transaction rolled back at its end, or, marked `commits`, in a database of
    its own. Tests that do not use the app (pure functions, source checks) get neither."""
    if "app" not in request.fixturenames:
        yield
        return
    if "module_database" in request.fixturenames:
        yield  # the module's database of its own, shared by its tests (module_database)
        return
    app = request.getfixturevalue("app")
    isolation = _own_database if request.node.get_closest_marker("commits") else _rolled_back
    with isolation(app):
        yield


@pytest.fixture(scope="module")
def module_database(app):
    """A database of the module's own, for a module whose tests share what a live server and a browser made once
    (signed-in pages, records behind detail pages): real commits, into a copy nobody else uses, dropped after the
    module's last test. Its module-scoped fixtures ask for this first."""
    with _own_database(app):
        yield


@pytest.fixture(scope="module")
def module_transaction(app):
    """For a module's data made once (a module-scoped fixture asks for this first): the data is made in a transaction
    of the module's, rolled back after its last test; each test runs in a SAVEPOINT inside it, rolled back too."""
    with _rolled_back(app):
        yield


@pytest.fixture()
def raw_engine(app, request):
    """A connection pool of its own, as someone with database access but not the app would have: only for tests
    marked `commits`, on their database of their own."""
    if request.node.get_closest_marker("commits") is None:
        pytest.fail("raw_engine opens connections of its own: mark the test `commits` (a database of its own).")
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
    own (in the test's database: a session of its own, as a request has). tests/test_mfa.py tests the refusal of a
    used code with users of its own, which nothing forgets.
    """
    import pyotp
    from flask import current_app

    from app.identity import two_step
    from app.kernel.security import mfa_required
    from app.kernel.uow import unit_of_work
    from app.models import SecondFactor
    person = user(username)
    with current_app.app_context(), unit_of_work("second factor") as session:  # the test's session is left as it is
        sealed = session.execute(
            sa.update(SecondFactor).where(SecondFactor.user_id == person.id, SecondFactor.enrolled_at.is_not(None))
            .values(last_step=None).returning(SecondFactor.secret_sealed)).scalar()
    secret = two_step.open_secret(sealed) if sealed else None
    if secret is None and mfa_required(person):
        with current_app.app_context():  # a session of its own: the test's is left as it is
            two_step.enrol_with_secret(person, TOTP_SECRET, actor="system:tests")
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


@pytest.fixture()
def new_user(app, ctx):
    """new_user(role) adds a user of the test's own, with the shared password (gone with the test's transaction)."""

    def make(role: str = "Safeguarding Officer", prefix: str = "user") -> str:
        return make_user(role, prefix)

    return make


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
    from app.identity.sessions import current_version
    return current_version(user(username).id)


def _as_set_up(username: str, version: int) -> bool:
    """Whether the user's sessions stand as set-up left them. Every test starts from set-up's database, and a
    version only rises within a test: a client or token stamped with set-up's version is good in any test where the
    version still is set-up's, and in no other. (A version seen only inside a rolled-back test is no key: another
    test can reach the same number by another change.)"""
    return _SET_UP["versions"].get(username) == version


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

    The token is the one this worker already has for the user, while it holds (the user's sessions as set-up left
    them: no sign-out, password, role or active-flag change in this test, and young): otherwise the user signs in
    again, and the token is kept only if it was stamped with set-up's version.
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
            token = response.get_json()["access_token"]
            if not _as_set_up(username, version):
                return ApiClient(client, token)
            api_tokens[username] = (token, version, time.monotonic())
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
    with, set-up's (a sign-out, or a password, role or active-flag change, raises the version and ends it)."""
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
    holds (the user's sessions as set-up left them); otherwise the user signs in afresh, and the client is kept only
    if it was stamped with set-up's version. A second client for the same user in one test is a new sign-in, a
    session of its own, as a test that asks twice expects.
    """
    from app.identity.sessions import SEEN_AT
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
            if not _as_set_up(username, version):
                return client
            with client.session_transaction() as session:
                kept = web_clients[username] = KeptClient(client, dict(session), version)
        kept.client._cookies.clear()  # only the session cookie, written afresh below, is carried over
        with kept.client.session_transaction() as session:
            session.clear()
            session.update(kept.session, **{SEEN_AT: int(time.time())})
        return kept.client

    return make
