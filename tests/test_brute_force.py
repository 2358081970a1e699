"""Brute force on the sign-ins: lockout (audited, in the database), one count of failures for the password and the
second step together, rate limits on the web, the second step and the API (per address and per username), one answer
for every failure, and limits that hold across two gunicorn workers."""
import itertools
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import redis
import requests
import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.kernel import audit_verify
from app.models import AccountState, AuditEvent, User, utcnow
from tests.conftest import PASSWORD, TOTP_SECRET, _free_port, csrf_token, totp_code

WRONG = "not-the-password-at-all-1"
TOO_MANY = "Too many sign-in attempts. Wait a few minutes and try again."
INVALID_LOGIN = "Invalid login. Please try again."
_names = itertools.count(1)


def new_name(prefix="bf") -> str:
    return f"{prefix}{next(_names)}{uuid.uuid4().hex[:6]}"


@pytest.fixture()
def person(new_user):
    """A member of staff of the test's own: one sign-in step, so that a 200 or a redirect home means the password
    alone got in (wrong second-step codes counting as failures is tested below and in tests/test_mfa.py)."""
    return lambda: new_user("Staff", "bf")


def api_sign_in(client, username, password, **environ):
    return client.post("/api/v1/security/login", environ_base=environ,
                       json={"username": username, "password": password, "provider": "db"})


def web_sign_in(client, username, password, **environ):
    page = client.get("/login/", environ_base=environ).get_data(as_text=True)
    return client.post("/login/", environ_base=environ,
                       data={"username": username, "password": password, "csrf_token": csrf_token(page)})


def web_message(client, answer) -> str:
    """The flashed message the sign-in page shows after a refused sign-in."""
    assert answer.status_code == 302 and "/login/" in answer.headers["Location"]
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def events_about(user_id: int) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "User",
                                                          AuditEvent.entity_id == str(user_id))
                              .order_by(AuditEvent.seq)).all()


@pytest.fixture()
def rate_limits_on(app):
    """The suite runs with the limits off (it signs in hundreds of times); these tests switch them on, from clean."""
    limiter = app.appbuilder.sm.limiter
    limiter.reset()
    app.config["SIGN_IN_RATE_LIMITED"] = True
    yield
    app.config["SIGN_IN_RATE_LIMITED"] = False
    limiter.reset()


# --- lockout ------------------------------------------------------------------------------------------------------

def test_five_failed_sign_ins_lock_the_account_and_then_even_the_right_password_is_refused(app, ctx, person):
    name = person()
    client = app.test_client()
    for _attempt in range(4):
        assert api_sign_in(client, name, WRONG).status_code == 401
    assert web_sign_in(client, name, WRONG).status_code == 302  # the fifth, on the page: web and API count together

    assert api_sign_in(client, name, PASSWORD).status_code == 401
    assert INVALID_LOGIN in web_message(client, web_sign_in(client, name, PASSWORD))
    assert client.get("/users/userinfo/").status_code == 302  # not signed in

    user = app.appbuilder.sm.find_user(name)
    actions = [event.action for event in events_about(user.id)]
    assert actions == ["sign_in_failed"] * 5 + ["account_locked"] + ["sign_in_refused"] * 2
    lock = events_about(user.id)[5]
    assert lock.actor_id == user.id and "5 failed sign-ins in a row" in lock.reason
    assert audit_verify.verify(db.session).ok


def test_when_the_lock_expires_the_right_password_signs_in_and_the_count_starts_again(app, ctx, person):
    name = person()
    client = app.test_client()
    for _attempt in range(5):
        api_sign_in(client, name, WRONG)
    user = app.appbuilder.sm.find_user(name)
    db.session.get(AccountState, user.id).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert api_sign_in(client, name, PASSWORD).status_code == 200
    db.session.expire_all()
    assert app.appbuilder.sm.find_user(name).fail_login_count == 0
    assert db.session.get(AccountState, user.id).locked_until is None
    for _attempt in range(4):  # four more failures do not lock it again: the count started again
        api_sign_in(client, name, WRONG)
    assert api_sign_in(client, name, PASSWORD).status_code == 200


def test_the_admin_lifts_a_lock_with_a_reason_audited_and_the_count_starts_again(app, ctx, person, web):
    name = person()
    client = app.test_client()
    for _attempt in range(5):
        api_sign_in(client, name, WRONG)
    account = app.appbuilder.sm.find_user(name)
    admin = web("admin")
    page = admin.get("/two-step/users/").get_data(as_text=True)
    assert f'/two-step/users/{account.id}/unlock' in page  # the locked account is shown with its button
    token = csrf_token(page)
    admin.post(f"/two-step/users/{account.id}/unlock", data={"reason": " ", "csrf_token": token})
    assert api_sign_in(client, name, PASSWORD).status_code == 401, "no reason, no lifting"

    answer = admin.post(f"/two-step/users/{account.id}/unlock", data={"reason": "Rang them back on their desk phone",
                                                                       "csrf_token": token})
    assert answer.status_code == 302
    unlocked = [event for event in events_about(account.id) if event.action == "account_unlocked"]
    assert len(unlocked) == 1 and unlocked[0].reason == "Rang them back on their desk phone"
    assert unlocked[0].actor_id == app.appbuilder.sm.find_user("admin").id
    assert api_sign_in(client, name, PASSWORD).status_code == 200
    assert audit_verify.verify(db.session).ok
    # Lifting a lock that is not there changes nothing.
    again = admin.post(f"/two-step/users/{account.id}/unlock", data={"reason": "Again", "csrf_token": token})
    assert again.status_code == 302
    assert len([e for e in events_about(account.id) if e.action == "account_unlocked"]) == 1


def test_the_lock_holds_for_the_set_time(app, ctx, person):
    name = person()
    for _attempt in range(5):
        api_sign_in(app.test_client(), name, WRONG)
    state = db.session.get(AccountState, app.appbuilder.sm.find_user(name).id)
    minutes = (state.locked_until - utcnow()).total_seconds() / 60
    assert app.config["LOCKOUT_MINUTES"] - 1 < minutes <= app.config["LOCKOUT_MINUTES"]


# --- the second step: one count with the password -----------------------------------------------------------------

@pytest.fixture()
def officer(new_user):
    """An officer of the test's own, enrolled with the tests' TOTP secret: signing in takes a password and a code."""
    name = new_user("Safeguarding Officer", "bf")
    totp_code(name)
    return name


def wrong_code() -> str:
    right = {pyotp.TOTP(TOTP_SECRET).at(datetime.now(UTC) + timedelta(seconds=30 * steps))
             for steps in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222") if code not in right)


def second_step(client, code, **environ):
    page = client.get("/two-step/verify", environ_base=environ).get_data(as_text=True)
    return client.post("/two-step/verify", environ_base=environ, data={"code": code, "csrf_token": csrf_token(page)})


def api_sign_in_with_code(client, username, code, **environ):
    return client.post("/api/v1/security/login", environ_base=environ,
                       json={"username": username, "password": PASSWORD, "provider": "db", "totp": code})


def failures_of(name) -> int:
    db.session.expire_all()
    return db.session.get(User, db.session.scalar(sa.select(User.id).where(User.username == name))).fail_login_count


def lock_passes(name) -> None:
    user_id = db.session.scalar(sa.select(User.id).where(User.username == name))
    db.session.get(AccountState, user_id).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_right_password_then_wrong_codes_signing_in_again_and_again_on_the_page_locks_the_account(app, ctx, officer):
    """Issue 10's attack: the right password, a few wrong codes, sign in again, repeat. Signing in again used to
    reset the count (331 wrong codes in 20 s, no lock); now the codes of every sign-in add up to the lockout."""
    threshold = app.config["LOCKOUT_THRESHOLD"]
    guesses = 0
    while guesses < threshold - 1:
        attacker = app.test_client()
        assert web_sign_in(attacker, officer, PASSWORD).headers["Location"] == "/"  # the password is right
        for _attempt in range(2):
            if guesses < threshold - 1:
                assert second_step(attacker, wrong_code()).status_code == 422
                guesses += 1
        assert failures_of(officer) == guesses, "the right password reset the count"
    last = second_step(attacker, wrong_code())
    assert last.status_code == 302 and last.headers["Location"] == "/login/"
    assert "signed out after too many failed attempts" in attacker.get("/login/").get_data(as_text=True)

    # Locked: the right password is refused, and so are the right password and the right code on the API.
    assert INVALID_LOGIN in web_message(attacker, web_sign_in(attacker, officer, PASSWORD))
    assert api_sign_in_with_code(app.test_client(), officer, totp_code(officer)).status_code == 401

    lock_passes(officer)
    owner = app.test_client()
    assert web_sign_in(owner, officer, PASSWORD).status_code == 302
    assert second_step(owner, totp_code(officer)).headers["Location"] == "/"
    assert failures_of(officer) == 0  # the completed sign-in starts the count again
    assert audit_verify.verify(db.session).ok


def test_right_password_and_wrong_totp_over_and_over_on_the_api_locks_the_account(app, ctx, officer):
    """The same attack on the API: the right password with a wrong "totp" used to reset the count (after 7 wrong
    codes it was 1)."""
    threshold = app.config["LOCKOUT_THRESHOLD"]
    client = app.test_client()
    for attempt in range(threshold):
        assert api_sign_in_with_code(client, officer, wrong_code()).status_code == 401
        assert failures_of(officer) == attempt + 1
    user_id = app.appbuilder.sm.find_user(officer).id
    assert db.session.get(AccountState, user_id).locked_until > utcnow()

    refused = api_sign_in_with_code(client, officer, totp_code(officer))
    assert refused.status_code == 401 and refused.get_json() == {"message": "Not authorized"}
    lock_passes(officer)
    assert api_sign_in_with_code(client, officer, totp_code(officer)).status_code == 200
    assert failures_of(officer) == 0


def test_a_sign_in_begun_before_the_lock_gets_no_more_guesses_not_even_the_right_code(app, ctx, officer):
    waiting = app.test_client()
    assert web_sign_in(waiting, officer, PASSWORD).status_code == 302  # the password step done, the code to come
    for _attempt in range(app.config["LOCKOUT_THRESHOLD"]):
        api_sign_in_with_code(app.test_client(), officer, wrong_code())

    refused = second_step(waiting, totp_code(officer))
    assert refused.status_code == 302 and refused.headers["Location"] == "/login/"
    assert waiting.get("/cases/").headers["Location"].startswith("/login/")  # signed out, not signed in
    user_id = app.appbuilder.sm.find_user(officer).id
    assert [event.action for event in events_about(user_id)][-1] == "sign_in_refused"


def test_only_a_completed_sign_in_starts_the_count_again(app, ctx, officer, person):
    client = app.test_client()
    web_sign_in(client, officer, PASSWORD)
    for _attempt in range(3):
        second_step(client, wrong_code())
    web_sign_in(app.test_client(), officer, PASSWORD)
    assert failures_of(officer) == 3  # the password alone is half a sign-in
    assert second_step(client, totp_code(officer)).headers["Location"] == "/"
    assert failures_of(officer) == 0
    # For users who sign in with a password alone, the password completes the sign-in.
    staff = person()
    api_sign_in(client, staff, WRONG)
    assert api_sign_in(client, staff, PASSWORD).status_code == 200 and failures_of(staff) == 0


def test_wrong_codes_on_the_page_get_429_per_address_counted_with_failed_passwords(app, ctx, officer, monkeypatch,
                                                                                  rate_limits_on):
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 1000)  # the rate limit alone, not the lockout, is tested
    client = app.test_client()
    web_sign_in(client, officer, PASSWORD)
    for _attempt in range(5):
        assert api_sign_in(client, new_name("nobody"), WRONG).status_code == 401
        assert second_step(client, wrong_code()).status_code == 422
    refused = second_step(client, totp_code(officer))
    assert refused.status_code == 429 and TOO_MANY in refused.get_data(as_text=True)
    assert second_step(client, totp_code(officer), REMOTE_ADDR="192.0.2.9").headers["Location"] == "/"


def test_wrong_codes_on_the_page_get_429_per_user_from_any_address(app, ctx, officer, monkeypatch, rate_limits_on):
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 1000)
    client = app.test_client()
    web_sign_in(client, officer, PASSWORD)
    for attempt in range(10):
        assert second_step(client, wrong_code(), REMOTE_ADDR=f"192.0.2.{attempt + 1}").status_code == 422
    refused = second_step(client, totp_code(officer), REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 429
    # The per-user count is the sign-in's: the password is refused too, from yet another address.
    assert web_sign_in(app.test_client(), officer, PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 429


# --- one answer for every failure ----------------------------------------------------------------------------------

def test_unknown_user_wrong_password_and_locked_account_get_the_same_answer(app, ctx, person):
    locked, known = person(), person()
    for _attempt in range(5):
        api_sign_in(app.test_client(), locked, WRONG)
    client = app.test_client()
    cases = {"unknown": (new_name("nobody"), PASSWORD), "wrong password": (known, WRONG),
             "locked": (locked, PASSWORD)}

    api_answers = {why: api_sign_in(client, *credentials) for why, credentials in cases.items()}
    assert {(a.status_code, a.get_data(as_text=True)) for a in api_answers.values()} == {
        (401, api_answers["unknown"].get_data(as_text=True))}
    assert api_answers["unknown"].get_json() == {"message": "Not authorized"}

    for why, credentials in cases.items():
        page = web_message(client, web_sign_in(client, *credentials))
        assert INVALID_LOGIN in page, why


def test_unknown_user_wrong_password_and_locked_account_take_about_as_long(app, ctx, person, monkeypatch):
    """Loose on purpose (within 3 times), and interleaved so that a busy machine slows every kind alike: it catches a
    path that skips the password hash, which is several times faster than one that checks it. With production's
    hashing (the test configuration's is cheap), so that the hash is what costs the time, as it does in production."""
    monkeypatch.setitem(app.config, "FAB_PASSWORD_HASH_METHOD", "scrypt")
    monkeypatch.setitem(app.config, "AUTH_DB_FAKE_PASSWORD_HASH_CHECK", generate_password_hash("not a password"))
    locked, known = person(), person()
    for _attempt in range(5):
        api_sign_in(app.test_client(), locked, WRONG)
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 1000)  # the known user stays unlocked while measured
    client = app.test_client()
    attempts = {"unknown": (new_name("nobody"), WRONG), "wrong password": (known, WRONG), "locked": (locked, PASSWORD)}
    durations = {kind: [] for kind in attempts}
    for _round in range(7):
        for kind, credentials in attempts.items():
            started = time.perf_counter()
            assert api_sign_in(client, *credentials).status_code == 401
            durations[kind].append(time.perf_counter() - started)
    medians = {kind: statistics.median(values) for kind, values in durations.items()}
    assert max(medians.values()) < 3 * min(medians.values()), medians


def _statements_of(client, username, password) -> list[tuple[str, str]]:
    """What one API sign-in does to the database: each statement's verb and first table, in order."""
    seen = []

    def note(connection, cursor, statement, *args):
        words = re.findall(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|INTO)\s+([a-z_]+)", statement)
        seen.append((statement.split()[0].upper(), next((table for verb, table in words
                                                         if verb in ("FROM", "INTO", "UPDATE")), "")))

    db.session.rollback()  # the test's own reads end first: only the sign-in's statements are noted
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert api_sign_in(client, username, password).status_code == 401
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen


def test_an_unknown_name_costs_the_same_work_as_a_wrong_password(app, ctx, person):
    """Finding 6: unknown names were answered sooner (89 ms against 105 ms), skipping the write and the audit event
    a wrong password costs. Now both write a user row and an audit event in one commit, statement for statement.
    (The hash check both make is what the timing test below catches.)"""
    known = person()
    client = app.test_client()
    events_before = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    unknown_name = new_name("nobody")
    unknown = _statements_of(client, unknown_name, WRONG)
    wrong_password = _statements_of(client, known, WRONG)
    assert unknown == wrong_password
    assert ("INSERT", "audit_event") in unknown and ("UPDATE", "ab_user") in unknown

    unknown_event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > events_before)
                                       .order_by(AuditEvent.seq)).first()
    assert (unknown_event.action, unknown_event.actor, unknown_event.entity_id) == ("sign_in_failed", "anonymous", None)
    assert unknown_name not in repr((unknown_event.reason, unknown_event.changes))  # it may be a mistyped password


# --- rate limits, in one process (memory storage) -----------------------------------------------------------------

def test_failed_sign_ins_from_one_address_get_429_on_the_api_and_the_page(app, ctx, rate_limits_on):
    client = app.test_client()
    for _attempt in range(5):  # every one a different, unknown username: only the address limit applies
        assert api_sign_in(client, new_name("nobody"), WRONG).status_code == 401
        assert web_sign_in(client, new_name("nobody"), WRONG).status_code == 302

    refused = api_sign_in(client, new_name("nobody"), WRONG)
    assert refused.status_code == 429 and refused.get_json() == {"message": TOO_MANY}
    page = web_sign_in(client, new_name("nobody"), WRONG)
    assert page.status_code == 429 and TOO_MANY in page.get_data(as_text=True)
    # Another address is not held back by this one's failures.
    assert api_sign_in(client, new_name("nobody"), WRONG, REMOTE_ADDR="192.0.2.7").status_code == 401


def test_failed_sign_ins_for_one_username_get_429_from_any_address_whether_or_not_it_exists(app, ctx,
                                                                                          rate_limits_on):
    client = app.test_client()
    name = new_name("nobody")
    for attempt in range(10):
        assert api_sign_in(client, name, WRONG, REMOTE_ADDR=f"192.0.2.{attempt + 1}").status_code == 401
    refused = api_sign_in(client, name.upper(), WRONG, REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 429 and refused.get_json() == {"message": TOO_MANY}


def test_successful_sign_ins_do_not_count_towards_the_limit(app, ctx, rate_limits_on):
    client = app.test_client()
    for _attempt in range(15):  # a whole office behind one address signing in at nine o'clock
        assert api_sign_in(client, "staff", PASSWORD).status_code == 200


def test_wrong_second_step_codes_on_the_api_count_towards_the_limit(app, ctx, new_user, rate_limits_on):
    """The right password with a wrong code is still a failed sign-in: a stolen password buys no free guesses."""
    name = new_user("Safeguarding Officer", "bf")
    right = totp_code(name)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    client = app.test_client()
    for attempt in range(10):
        answer = client.post("/api/v1/security/login", environ_base={"REMOTE_ADDR": f"192.0.2.{attempt + 1}"},
                             json={"username": name, "password": PASSWORD, "provider": "db", "totp": wrong})
        assert answer.status_code == 401
    refused = client.post("/api/v1/security/login", json={"username": name, "password": PASSWORD, "provider": "db",
                                                          "totp": totp_code(name)})
    assert refused.status_code == 429 and refused.get_json() == {"message": TOO_MANY}


def test_even_the_right_password_is_refused_while_rate_limited(app, ctx, person, rate_limits_on):
    name = person()
    client = app.test_client()
    for _attempt in range(10):
        api_sign_in(client, new_name("nobody"), WRONG)
    assert api_sign_in(client, name, PASSWORD).status_code == 429


# --- served by gunicorn: as `make run` serves it (memory), and with two workers (Redis) -----------------------------

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _gunicorn_environment(app, tmp_path, **settings) -> dict:
    return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
            "AUDIT_KEY": app.config["AUDIT_KEY"], "AUDIT_HEAD_PATH": app.config["AUDIT_HEAD_PATH"],
            "INSTANCE_DIR": str(tmp_path), "SIGN_IN_RATE_LIMITED": "1", **settings}


def _serve(environment, *options):
    """A real gunicorn on the test database, started in the project folder (so that gunicorn.conf.py applies, as
    under `make run`), with `options` on its command line. Yields its URL."""
    port = _free_port()
    server = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", *options, "run:app"], cwd=ROOT,
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/login/", timeout=10)
            break
        except requests.RequestException:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("gunicorn did not start: " + server.stderr.read().decode()[-3000:])
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture()
def as_make_run(app, tmp_path):
    """gunicorn as `make run` starts it, with its default of sign-in limits counted in memory."""
    yield from _serve(_gunicorn_environment(app, tmp_path, RATELIMIT_STORAGE_URI="memory://", WORKERS="2"),
                      "--access-logfile", "-")


@pytest.fixture()
def two_workers_server(app, tmp_path_factory):
    """A real gunicorn with two workers on the test's own database (a `commits` test has one of its own, so the
    server starts per test), its limits kept in Redis under a prefix of its own."""
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"the two-worker tests need Redis at {redis_url} (apt-get install redis-server; .ci/run starts it)")
    prefix = f"test-{uuid.uuid4().hex}"
    for url in _serve(_gunicorn_environment(app, tmp_path_factory.mktemp("two-workers"),
                                            RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix),
                      "--workers", "2"):
        yield url, redis.Redis.from_url(redis_url), prefix


@pytest.fixture()
def two_workers(two_workers_server):
    """The module's two-worker gunicorn, its sign-in counts in Redis wiped first, as a fresh server's would be."""
    url, store, prefix = two_workers_server
    stale = list(store.scan_iter(match=f"*{prefix}*"))
    if stale:
        store.delete(*stale)
    assert not list(store.scan_iter(match=f"*{prefix}*"))
    return url


def _live_web_sign_in(url, username, password):
    browser = requests.Session()
    page = browser.get(f"{url}/login/", timeout=10).text
    return browser.post(f"{url}/login/", data={"username": username, "password": password,
                                               "csrf_token": csrf_token(page)}, allow_redirects=False, timeout=10)


def _live_api_sign_in(url, username, password):
    # A new connection each time, so that gunicorn hands the attempts to either worker.
    return requests.post(f"{url}/api/v1/security/login", timeout=10,
                         json={"username": username, "password": password, "provider": "db"})


@pytest.mark.commits  # gunicorn's processes connect to the database themselves
@pytest.mark.slow
def test_under_make_run_failures_from_one_address_get_429_by_the_eleventh(as_make_run):
    """Finding 6: `make run` served two worker processes each counting in its own memory, so one address had 20
    tries, not 10. With the counts in memory it now serves one process (with threads): the eleventh is refused
    whichever connection carries it."""
    url = as_make_run
    codes = [_live_api_sign_in(url, new_name("nobody"), WRONG).status_code for attempt in range(11)]
    assert codes == [401] * 10 + [429], codes


@pytest.mark.commits  # gunicorn's processes connect to the database themselves
@pytest.mark.slow
def test_gunicorn_refuses_several_workers_counting_in_memory(app, tmp_path):
    started = subprocess.run([str(GUNICORN), "--bind", f"127.0.0.1:{_free_port()}", "--workers", "2", "run:app"],
                             cwd=ROOT, env=_gunicorn_environment(app, tmp_path, RATELIMIT_STORAGE_URI="memory://"),
                             capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode != 0
    assert "run one worker (with threads), or set RATELIMIT_STORAGE_URI to a Redis server" in started.stderr


@pytest.mark.commits  # gunicorn's processes connect to the database themselves
@pytest.mark.slow
def test_across_two_workers_five_failures_on_web_and_api_lock_the_account(app, ctx, two_workers, person):
    url = two_workers
    name = person()
    for attempt in range(5):  # alternately on the page and the API; either worker may take each
        answer = (_live_web_sign_in if attempt % 2 else _live_api_sign_in)(url, name, WRONG)
        assert answer.status_code in (302, 401)
    assert _live_api_sign_in(url, name, PASSWORD).status_code == 401
    refused = _live_web_sign_in(url, name, PASSWORD)
    assert refused.status_code == 302 and "/login/" in refused.headers["Location"]
    user = app.appbuilder.sm.find_user(name)
    assert db.session.get(AccountState, user.id).locked_until > utcnow()


@pytest.mark.commits  # gunicorn's processes connect to the database themselves
@pytest.mark.slow
def test_across_two_workers_failures_from_one_address_get_429_by_the_eleventh(two_workers):
    """Kept in each worker's memory, the limit would let through ten failures per worker: Redis holds it for both."""
    url = two_workers
    answers = [_live_api_sign_in(url, new_name("nobody"), WRONG) for attempt in range(6)]
    answers += [_live_web_sign_in(url, new_name("nobody"), WRONG) for attempt in range(5)]
    codes = [answer.status_code for answer in answers]
    assert codes[:10] == [401] * 6 + [302] * 4, codes
    assert codes[10] == 429, codes
    assert TOO_MANY in answers[10].text
    refused = _live_api_sign_in(url, new_name("nobody"), WRONG)
    assert refused.status_code == 429 and refused.json() == {"message": TOO_MANY}
