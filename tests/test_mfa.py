"""Two-step sign-in: enrolment, the second step by code and by recovery code, each accepted once, the gate in front
of every page and API call, the API sign-in with "totp", and the Admin's audited reset.

Each test signs in people of its own, made here, so that the conftest's fixtures (which forget a user's last
accepted code before each sign-in) never hide a replay.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pyotp
import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token, create_refresh_token

from app.extensions import db
from app.identity import two_step
from app.identity.two_step_pages import OPEN_ENDPOINTS
from app.kernel.security import ADMIN, LEAD, OFFICER, STAFF
from app.models import AccountState, AuditEvent, Case, RecoveryCode, SecondFactor
from tests.conftest import PASSWORD, csrf_token, make_case, sign_out, user
from tests.factories import make_user

CODES_RE = re.compile(r"<li><code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code></li>")
SECRET_RE = re.compile(r'id="two-step-secret">([A-Z2-7]+)<')


# Every test here works in an app context.
pytestmark = pytest.mark.usefixtures("ctx")


def person(role: str = OFFICER, secret: str | None = None) -> str:
    """A new user with `role`, enrolled with `secret` when given; returns the username."""
    username = make_user(role, f"mfa-{role.split()[0].lower()}", "Mfa")
    if secret:
        two_step.enrol_with_secret(user(username), secret, actor="system:tests")
    return username


def code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps))


def wrong_code(secret: str) -> str:
    right = {code(secret, steps) for steps in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def password_sign_in(app, username: str):
    client = app.test_client()
    page = client.get("/login/")
    response = client.post("/login/", data={"username": username, "password": PASSWORD,
                                            "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302, "password sign-in failed"
    return client


def second_step(client, typed: str):
    page = client.get("/two-step/verify")
    return client.post("/two-step/verify", data={"code": typed, "csrf_token": csrf_token(page.get_data(as_text=True))})


def sent_to(response) -> str:
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:300])
    return urlparse(response.location).path


def api_sign_in(app, username: str, **extra):
    return app.test_client().post("/api/v1/security/login",
                                  json={"username": username, "password": PASSWORD, "provider": "db", **extra})


def factor_of(username: str) -> SecondFactor | None:
    db.session.expire_all()
    return db.session.get(SecondFactor, user(username).id)


def audit_actions(username: str) -> list[tuple[str, str, str | None]]:
    db.session.expire_all()
    return db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.reason)
                              .where(AuditEvent.entity_type == "User", AuditEvent.entity_id == str(user(username).id))
                              .order_by(AuditEvent.seq)).all()


# --- enrolment ------------------------------------------------------------------------------------------------

def test_enrolment_shows_a_qr_code_drawn_here_and_needs_a_valid_code(app, ctx):
    username = person(OFFICER)
    client = password_sign_in(app, username)
    assert sent_to(client.get("/cases/")) == "/two-step/enrol"
    assert sent_to(client.get("/two-step/verify")) == "/two-step/enrol"

    page = client.get("/two-step/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html  # drawn on the server: no script, no other site
    secret = SECRET_RE.search(html).group(1)
    assert client.get("/two-step/enrol").get_data(as_text=True).count(secret) == 1  # a reload keeps the same key

    token = csrf_token(html)
    refused = client.post("/two-step/enrol", data={"code": wrong_code(secret), "csrf_token": token})
    assert refused.status_code == 422 and "not right" in refused.get_data(as_text=True)
    assert not two_step.is_enrolled(factor_of(username))
    assert sent_to(client.get("/cases/")) == "/two-step/enrol"

    done = client.post("/two-step/enrol", data={"code": code(secret), "csrf_token": token})
    assert done.status_code == 200
    codes = CODES_RE.findall(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/cases/").status_code == 200  # the session that enrolled is verified
    assert two_step.is_enrolled(factor_of(username))
    assert ("mfa_enrolled", username, None) in audit_actions(username)
    # Once enrolled, the set-up page cannot replace the key (someone with only the password could otherwise).
    assert sent_to(client.get("/two-step/enrol")) == "/two-step/"
    assert sent_to(client.post("/two-step/enrol", data={"code": code(secret), "csrf_token": token})) == "/two-step/"

    stored = db.session.scalars(
        sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user(username).id)).all()
    assert len(stored) == 10
    for typed in codes:
        assert not any(typed.replace("-", "") in value or typed in value for value in stored)


def test_the_secret_is_stored_encrypted_and_the_recovery_codes_hashed(ctx):
    username = person(LEAD)
    enrolment = two_step.start_enrolment(user(username))
    _, codes = two_step.confirm_enrolment(user(username), {"code": code(enrolment.secret)})
    # The rows as stored, in plain SQL.
    rows = db.session.execute(sa.text("SELECT * FROM mfa_recovery_code WHERE user_id = :id"),
                              {"id": user(username).id}).all()
    factor = db.session.execute(sa.text("SELECT * FROM mfa_totp WHERE user_id = :id"),
                                {"id": user(username).id}).all()
    dump = repr(rows)
    assert len(rows) == 10
    for typed in codes:
        assert typed not in dump and typed.replace("-", "") not in dump
    assert len(factor) == 1 and enrolment.secret not in repr(factor) and enrolment.secret.lower() not in repr(factor)


@pytest.mark.parametrize("enrolled", [False, True])
def test_the_second_step_offers_no_menu_of_what_it_has_not_opened(app, ctx, enrolled):
    client = password_sign_in(app, person(OFFICER, pyotp.random_base32() if enrolled else None))
    page = client.get("/two-step/verify" if enrolled else "/two-step/enrol").get_data(as_text=True)
    assert "Sign out" in page
    assert not any(link in page for link in ('href="/cases/"', 'href="/concerns/new"', 'href="/concerns/mine"'))


def test_a_user_who_must_enrol_can_reach_nothing_else(app, ctx):
    """Every GET route the app serves (with 1 for each id) and a few writes: the set-up page or 401, nothing else."""
    case_id = make_case()
    username = person(LEAD)
    client = password_sign_in(app, username)
    token = csrf_token(client.get("/two-step/enrol").get_data(as_text=True))
    tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN_ENDPOINTS or "GET" not in rule.methods:
            continue
        path = rule.build({arg: case_id for arg in rule.arguments}, append_unknown=False)[1]
        response = client.get(path)
        tried += 1
        if rule.endpoint.split(".")[0].endswith("Api") or path.startswith("/api/"):
            assert response.status_code == 401, (rule.endpoint, response.status_code)
            assert "Finish signing in" in response.get_json()["message"]
        else:
            assert sent_to(response) == "/two-step/enrol", rule.endpoint
    assert tried > 60
    writes = [("/concerns/new", {"description": "x"}), (f"/cases/{case_id}/event", {"event": "acknowledge"}),
              (f"/two-step/users/{user('officer').id}/reset", {"reason": "x"})]
    for path, form in writes:
        assert sent_to(client.post(path, data={**form, "csrf_token": token})) == "/two-step/enrol"
    assert client.post("/api/v1/case/", json={"description": "x"}).status_code == 401
    assert two_step.is_enrolled(factor_of("officer"))  # the reset above did not happen
    assert sent_to(sign_out(client)) != "/two-step/enrol"  # signing out is always possible


# --- the second step ------------------------------------------------------------------------------------------

def test_a_code_is_accepted_once_only(app, ctx):
    secret = pyotp.random_base32()
    username = person(OFFICER, secret)
    first = password_sign_in(app, username)
    assert sent_to(first.get("/cases/")) == "/two-step/verify"
    typed = code(secret)
    assert sent_to(second_step(first, typed)) == "/"
    assert first.get("/cases/").status_code == 200

    replay = password_sign_in(app, username)
    refused = second_step(replay, typed)
    assert refused.status_code == 422 and "used already" in refused.get_data(as_text=True)
    assert sent_to(replay.get("/cases/")) == "/two-step/verify"
    # A code from the step before the one accepted is refused too, even inside the clock-drift window.
    assert second_step(replay, code(secret, -1)).status_code == 422
    assert sent_to(replay.get("/cases/")) == "/two-step/verify"


def test_a_recovery_code_works_once_and_its_use_is_audited(app, ctx):
    username = person(OFFICER)
    enrolment = two_step.start_enrolment(user(username))
    _, codes = two_step.confirm_enrolment(user(username), {"code": code(enrolment.secret)})

    client = password_sign_in(app, username)
    assert sent_to(second_step(client, codes[0].lower().replace("-", " "))) == "/"  # as people type it
    assert client.get("/cases/").status_code == 200
    assert ("mfa_recovery_code_used", username, None) in audit_actions(username)

    again = password_sign_in(app, username)
    assert second_step(again, codes[0]).status_code == 422
    assert sent_to(again.get("/cases/")) == "/two-step/verify"
    assert sent_to(second_step(again, codes[1])) == "/"
    page = again.get("/two-step/")
    assert '<strong id="codes-left">8</strong>' in page.get_data(as_text=True)


def test_new_recovery_codes_replace_the_old_ones(app, ctx):
    username = person(OFFICER)
    enrolment = two_step.start_enrolment(user(username))
    _, old = two_step.confirm_enrolment(user(username), {"code": code(enrolment.secret)})
    client = password_sign_in(app, username)
    assert sent_to(second_step(client, old[0])) == "/"
    page = client.get("/two-step/")
    response = client.post("/two-step/recovery-codes", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    new = CODES_RE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert ("mfa_recovery_codes_renewed", username, None) in audit_actions(username)
    other = password_sign_in(app, username)
    assert second_step(other, old[1]).status_code == 422
    assert sent_to(second_step(other, new[0])) == "/"


def test_signing_in_again_asks_for_the_second_factor_again(app, ctx):
    secret = pyotp.random_base32()
    username = person(LEAD, secret)
    client = password_sign_in(app, username)
    assert sent_to(second_step(client, code(secret))) == "/"
    sign_out(client)
    page = client.get("/login/")
    client.post("/login/", data={"username": username, "password": PASSWORD,
                                 "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert sent_to(client.get("/cases/")) == "/two-step/verify"


def test_too_many_wrong_codes_in_a_row_lock_the_account_and_sign_the_user_out(app, ctx):
    secret = pyotp.random_base32()
    username = person(OFFICER, secret)
    client = password_sign_in(app, username)
    wrong = wrong_code(secret)
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        assert second_step(client, wrong).status_code == 422
    assert sent_to(second_step(client, wrong)) == "/login/"
    assert "signed out after too many failed attempts" in client.get("/login/").get_data(as_text=True)
    assert sent_to(client.get("/cases/")) == "/login/"  # signed out
    # Each wrong code is a failed sign-in: the account is now locked, even to the right password...
    account = user(username)
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == account.id)).all()
    assert actions.count("sign_in_failed") == app.config["LOCKOUT_THRESHOLD"] and "account_locked" in actions
    assert sent_to(password_sign_in(app, username).get("/cases/")) == "/login/"
    # ...until the lock has passed; then a new sign-in starts again.
    db.session.execute(sa.update(AccountState).where(AccountState.user_id == account.id)
                       .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    client = password_sign_in(app, username)
    assert sent_to(second_step(client, code(secret))) == "/"


# --- without the second factor, no case data --------------------------------------------------------------------

PAGES = ["/cases/", "/cases/{id}", "/cases/{id}/review", "/cases/{id}/export?format=csv", "/concerns/mine",
         "/oversight/", "/oversight/access", "/reports/board", "/training/staff/"]
API = ["/api/v1/case/", "/api/v1/case/{id}", "/api/v1/case/{id}/chronology", "/api/v1/case/{id}/audit",
       "/api/v1/subject/{subject}", "/api/v1/access_log/"]


def test_without_the_second_factor_no_case_page_and_no_api_case_data_is_served(app, ctx, api):
    case_id = make_case()
    case = db.session.get(Case, case_id)
    ids, secrets_of_the_case = {"id": case_id, "subject": case.subject_id}, (case.reference, case.subject.full_name)
    signed_in_only = password_sign_in(app, "lead")  # the fixture user, enrolled: the second step not taken

    for path in PAGES:
        response = signed_in_only.get(path.format(**ids))
        assert sent_to(response) == "/two-step/verify", path
        assert not any(text in response.get_data(as_text=True) for text in secrets_of_the_case)
    for path in API:  # with the session cookie
        response = signed_in_only.get(path.format(**ids))
        assert response.status_code == 401, path
        assert not any(text in response.get_data(as_text=True) for text in secrets_of_the_case)

    lead_id = str(user("lead").id)
    forged = {
        "no claim": create_access_token(identity=lead_id, fresh=True),
        "another enrolment's claim": create_access_token(identity=lead_id,
                                                         additional_claims={two_step.MFA_CLAIM: "1:x"}),
        "a refresh token without it": create_refresh_token(identity=lead_id),
    }
    anonymous = app.test_client()
    for what, token in forged.items():
        for path in API:
            response = anonymous.get(path.format(**ids), headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (what, path)
            assert "without the second factor" in response.get_json()["message"]
            assert not any(text in response.get_data(as_text=True) for text in secrets_of_the_case)
    response = anonymous.post("/api/v1/security/refresh",
                              headers={"Authorization": f"Bearer {forged['a refresh token without it']}"})
    assert response.status_code == 401

    # The same requests with the second factor serve the case: the refusals above are the gate's.
    signed_in = api("lead")
    assert signed_in.get(f"/api/v1/case/{case_id}").status_code == 200
    assert second_step(signed_in_only, _fixture_code("lead")).status_code == 302
    assert signed_in_only.get(f"/cases/{case_id}").status_code == 200


def _fixture_code(username: str) -> str:
    from tests.conftest import totp_code
    return totp_code(username)


# --- the API sign-in ----------------------------------------------------------------------------------------------

def test_api_sign_in_with_without_and_with_a_wrong_or_used_code(app, ctx):
    secret = pyotp.random_base32()
    username = person(OFFICER, secret)
    case_id = make_case()

    missing = api_sign_in(app, username)
    assert missing.status_code == 401 and '"totp"' in missing.get_json()["message"]
    wrong = api_sign_in(app, username, totp=wrong_code(secret))
    assert wrong.status_code == 401 and "not right" in wrong.get_json()["message"]
    assert api_sign_in(app, username, totp=123456).status_code == 400

    typed = code(secret)
    bad_password = app.test_client().post("/api/v1/security/login", json={
        "username": username, "password": PASSWORD + "x", "provider": "db", "totp": typed})
    assert bad_password.status_code == 401 and bad_password.get_json() == {"message": "Not authorized"}

    good = api_sign_in(app, username, totp=typed, refresh=True)  # the code was not spent by the wrong password
    assert good.status_code == 200
    tokens = good.get_json()
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(f"/api/v1/case/{case_id}", headers=bearer).status_code == 200

    assert api_sign_in(app, username, totp=typed).status_code == 401  # used
    refreshed = client.post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refreshed.status_code == 200
    bearer = {"Authorization": f"Bearer {refreshed.get_json()['access_token']}"}
    assert client.get(f"/api/v1/case/{case_id}", headers=bearer).status_code == 200


def test_api_sign_in_of_a_user_who_has_not_enrolled_says_to_set_it_up_in_the_web_app(app, ctx):
    username = person(ADMIN)
    response = api_sign_in(app, username)
    assert response.status_code == 401
    assert "web app" in response.get_json()["message"]
    assert api_sign_in(app, username, totp="123456").status_code == 401


def test_api_sign_in_by_recovery_code(app, ctx):
    username = person(LEAD)
    enrolment = two_step.start_enrolment(user(username))
    _, codes = two_step.confirm_enrolment(user(username), {"code": code(enrolment.secret)})
    assert api_sign_in(app, username, totp=codes[3]).status_code == 200
    assert api_sign_in(app, username, totp=codes[3]).status_code == 401


def test_staff_sign_in_with_a_password_alone_unless_everyone_must_use_a_second_factor(app, ctx):
    username = person(STAFF)
    assert api_sign_in(app, username).status_code == 200
    assert password_sign_in(app, username).get("/concerns/new").status_code == 200
    app.config["MFA_REQUIRED_FOR_ALL"] = True
    try:
        assert sent_to(password_sign_in(app, username).get("/concerns/new")) == "/two-step/enrol"
        assert api_sign_in(app, username).status_code == 401
    finally:
        app.config["MFA_REQUIRED_FOR_ALL"] = False


def test_staff_who_set_it_up_of_their_own_accord_are_asked_for_it(app, ctx):
    secret = pyotp.random_base32()
    username = person(STAFF)
    client = password_sign_in(app, username)
    assert "Set up two-step sign-in" in client.get("/two-step/").get_data(as_text=True)
    two_step.enrol_with_secret(user(username), secret, actor="system:tests")
    assert sent_to(password_sign_in(app, username).get("/concerns/new")) == "/two-step/verify"
    assert api_sign_in(app, username).status_code == 401
    assert api_sign_in(app, username, totp=code(secret)).status_code == 200


# --- the Admin's reset --------------------------------------------------------------------------------------------

def test_the_admin_resets_a_second_factor_with_a_reason_audited_and_the_user_enrols_again(app, ctx, web):
    secret = pyotp.random_base32()
    username = person(OFFICER, secret)
    target = user(username).id
    victim = password_sign_in(app, username)
    assert sent_to(second_step(victim, code(secret))) == "/"
    token = api_sign_in(app, username, totp=code(secret, 1)).get_json()["access_token"]

    admin = web("admin")
    page = admin.get("/two-step/users/")
    assert page.status_code == 200 and username in page.get_data(as_text=True)
    form_token = csrf_token(page.get_data(as_text=True))
    admin.post(f"/two-step/users/{target}/reset", data={"reason": "  ", "csrf_token": form_token})
    assert two_step.is_enrolled(factor_of(username)), "no reason, no reset"
    response = admin.post(f"/two-step/users/{target}/reset", data={"reason": "Phone lost, checked in person",
                                                                   "csrf_token": form_token})
    assert sent_to(response) == "/two-step/users/"
    assert factor_of(username) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == target)) == 0
    assert ("mfa_reset", "admin", "Phone lost, checked in person") in audit_actions(username)

    # At once: the verified session and the token no longer pass; the next sign-in sets it up again.
    assert sent_to(victim.get("/cases/")) == "/two-step/enrol"
    assert app.test_client().get("/api/v1/case/", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sent_to(password_sign_in(app, username).get("/")) == "/two-step/enrol"


@pytest.mark.parametrize("role", ["staff", "officer", "lead", "director", "governance"])
def test_only_the_admin_may_reset_a_second_factor(web, ctx, role):
    client = web(role)
    target = user("officer2").id
    token = csrf_token(client.get("/concerns/new").get_data(as_text=True))
    assert client.get("/two-step/users/").status_code == 403
    for action in ("reset", "unlock"):
        response = client.post(f"/two-step/users/{target}/{action}", data={"reason": "Because", "csrf_token": token})
        assert response.status_code == 403
    assert two_step.is_enrolled(factor_of("officer2"))


def test_flask_mfa_reset_from_the_command_line_is_audited(app, ctx):
    username = person(OFFICER, pyotp.random_base32())
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mfa", "reset", username]).exit_code != 0  # the reason is required
    result = runner.invoke(args=["mfa", "reset", username, "--reason", "Phone lost"])
    assert result.exit_code == 0, result.output
    assert factor_of(username) is None
    assert [a for a in audit_actions(username) if a[0] == "mfa_reset"][0][2] == "Phone lost"
    assert runner.invoke(args=["mfa", "reset", "nobody-of-that-name", "--reason", "x"]).exit_code != 0


def test_demo_users_who_need_it_are_enrolled_with_the_demo_secret(app, ctx):
    from app.seed import enrol_demo_second_factors
    secret = pyotp.random_base32()
    officer, staff = person(OFFICER), person(STAFF)
    app.config["DEMO_TOTP_SECRET"] = secret
    try:
        enrol_demo_second_factors([user(officer), user(staff)])
    finally:
        app.config["DEMO_TOTP_SECRET"] = None
    assert two_step.open_secret(factor_of(officer).secret_sealed) == secret and two_step.is_enrolled(factor_of(officer))
    assert factor_of(staff) is None
    assert sent_to(second_step(password_sign_in(app, officer), code(secret))) == "/"


def test_the_api_description_tells_of_the_totp_field(api):
    document = api("admin").get("/api/v1/_openapi").get_json()
    body = document["paths"]["/api/v1/security/login"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "totp" in body["properties"]
