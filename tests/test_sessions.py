"""Sessions that end: a captured session cookie or API token stops working after sign-out, a password change,
deactivation and a role change; sessions end after the idle timeout and the absolute lifetime, on the server; a new
session starts at sign-in, with nothing carried over from before."""
import functools
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RefreshToken, utcnow
from tests.conftest import PASSWORD, csrf_token, sign_out, totp_code

NEW_PASSWORD = "lantern-orchard-wheelbarrow-93"
SIGNED_IN_PAGE = "/users/userinfo/"  # anyone's own profile: 200 signed in, a redirect to the sign-in page if not
CASES_API = "/api/v1/case/"
MENU_API = "/api/v1/menu/"


@pytest.fixture()
def person(new_user):
    """person() adds a Safeguarding Officer of this test's own (so that ending their sessions touches nobody else)."""
    return functools.partial(new_user, prefix="sess")


def token_of(app, username, password=PASSWORD, refresh=False) -> dict:
    code = totp_code(username)
    answer = app.test_client().post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": refresh,
        **({"totp": code} if code else {})})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def api_get(app, token, url=CASES_API):
    return app.test_client().get(url, headers={"Authorization": f"Bearer {token}"})


def captured(app, client):
    """Another browser holding a copy of `client`'s session cookie, as someone who captured it would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    answer = client.get(SIGNED_IN_PAGE)
    if answer.status_code == 200:
        return True
    assert answer.status_code == 302 and "/login/" in answer.headers["Location"], answer.status_code
    return False


def test_sign_out_ends_a_captured_cookie_and_the_users_api_tokens(app, web, person):
    name = person()
    browser = web(name)
    thief = captured(app, browser)
    token = token_of(app, name)["access_token"]
    assert signed_in(thief) and api_get(app, token).status_code == 200

    sign_out(browser)

    assert not signed_in(thief)
    assert not signed_in(browser)
    refused = api_get(app, token)
    assert refused.status_code == 401 and "Sign in again" in refused.get_json()["message"]


def test_a_get_to_the_sign_out_address_from_another_site_signs_nobody_out(app, web, person):
    """An image or link elsewhere (<img src=".../logout/">) used to sign the user out: only a POST with the form
    token does now. A GET shows the Sign out button; a POST without the token is refused."""
    browser = web(person())
    page = browser.get("/logout/", headers={"Referer": "https://elsewhere.example/", "Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and 'form="sign-out"' in page.get_data(as_text=True)
    assert signed_in(browser)
    refused = browser.post("/logout/", headers={"Origin": "https://elsewhere.example"})
    assert refused.status_code == 400
    assert signed_in(browser)

    answer = sign_out(browser)
    assert answer.status_code == 302
    assert not signed_in(browser)
    assert app.test_client().get("/logout/").headers["Location"].startswith("/login/")  # nobody to sign out


def test_every_signed_in_page_signs_out_by_a_form_not_a_link(web):
    for page in (web("staff").get("/").get_data(as_text=True),
                 web("staff2").get("/two-step/").get_data(as_text=True)):
        assert 'href="/logout/"' not in page
        assert re.search(r'<form method="post" action="/logout/" id="sign-out"[^>]*>\s*<input type="hidden" '
                         r'name="csrf_token" value="[^"]+">\s*<button type="submit"', page)


def test_api_sign_out_ends_the_token_and_every_other_session(app, web, person):
    name = person()
    browser = web(name)
    token, other = token_of(app, name)["access_token"], token_of(app, name)["access_token"]
    answer = app.test_client().post("/api/v1/security/logout", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert api_get(app, token).status_code == 401 and api_get(app, other).status_code == 401
    assert not signed_in(browser)
    assert app.test_client().post("/api/v1/security/logout").status_code == 401  # no token, nothing to end


def test_changing_ones_own_password_ends_every_other_session_and_token_and_keeps_this_one(app, web, person):
    name = person()
    browser, elsewhere = web(name), web(name)
    thief = captured(app, browser)
    token = token_of(app, name)["access_token"]

    page = browser.get("/resetmypassword/form").get_data(as_text=True)
    answer = browser.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
                                                         "csrf_token": csrf_token(page)})
    assert answer.status_code == 302

    assert signed_in(browser)  # the session it was changed in goes on, and keeps going on
    assert signed_in(browser)
    assert not signed_in(elsewhere)
    assert api_get(app, token).status_code == 401
    # The captured copy of the very session the change was made in was stamped before the change: it has ended.
    assert not signed_in(thief)


def test_a_password_reset_by_the_admin_ends_the_users_sessions_and_tokens(app, web, person, users):
    name = person()
    browser = web(name)
    token = token_of(app, name)["access_token"]
    admin = web("admin")
    pk = app.appbuilder.sm.find_user(name).id

    page = admin.get(f"/resetpassword/form?pk={pk}").get_data(as_text=True)
    answer = admin.post(f"/resetpassword/form?pk={pk}", data={"password": NEW_PASSWORD,
                                                              "conf_password": NEW_PASSWORD,
                                                              "reason": "Forgotten, checked by phone",
                                                              "csrf_token": csrf_token(page)})
    assert answer.status_code == 302

    assert not signed_in(browser)
    assert api_get(app, token).status_code == 401
    assert signed_in(admin)  # the Admin's own session is not the one that changed


def test_a_password_reset_from_the_command_line_ends_the_users_sessions_and_tokens(app, web, person):
    name = person()
    browser = web(name)
    token = token_of(app, name)["access_token"]

    from flask_appbuilder.cli import fab  # `flask fab reset-password`

    result = app.test_cli_runner().invoke(fab, ["reset-password", "--username", name, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output

    assert not signed_in(browser)
    assert api_get(app, token).status_code == 401
    assert token_of(app, name, password=NEW_PASSWORD)


def _edit_user(app, admin, name, *, active: bool, role: str):
    user = app.appbuilder.sm.find_user(name)
    page = admin.get(f"/users/edit/{user.id}").get_data(as_text=True)
    data = {"first_name": user.first_name, "last_name": user.last_name, "username": user.username,
            "email": user.email, "roles": [str(app.appbuilder.sm.find_role(role).id)],
            "reason": "Moved team", "csrf_token": csrf_token(page)}
    if active:
        data["active"] = "y"
    answer = admin.post(f"/users/edit/{user.id}", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]


def test_deactivation_by_the_admin_ends_the_users_sessions_and_tokens_for_good(app, web, person):
    name = person()
    browser = web(name)
    token = token_of(app, name)["access_token"]
    admin = web("admin")

    _edit_user(app, admin, name, active=False, role="Safeguarding Officer")
    assert not signed_in(browser)
    assert api_get(app, token).status_code == 401

    # Made active again, the old session and token stay ended: only a new sign-in works.
    _edit_user(app, admin, name, active=True, role="Safeguarding Officer")
    assert not signed_in(browser)
    assert api_get(app, token).status_code == 401
    assert signed_in(web(name))


def test_a_role_change_ends_the_users_sessions_and_tokens(app, web, person):
    name = person()
    browser = web(name)
    token = token_of(app, name)["access_token"]
    admin = web("admin")

    _edit_user(app, admin, name, active=True, role="Staff")

    assert not signed_in(browser)  # signed out, not merely refused (403) under the new role
    assert api_get(app, token).status_code == 401
    assert signed_in(web(name))


def test_an_edit_that_changes_no_password_role_or_active_flag_ends_nothing(app, web, person):
    name = person()
    browser = web(name)
    _edit_user(app, web("admin"), name, active=True, role="Safeguarding Officer")
    assert signed_in(browser)


def _deactivate(app, user):
    user.active = False


def _make_staff(app, user):
    user.roles = [app.appbuilder.sm.find_role("Staff")]


def _set_password(app, user):
    from werkzeug.security import generate_password_hash
    user.password = generate_password_hash(NEW_PASSWORD)


@pytest.mark.parametrize("change", [_deactivate, _make_staff, _set_password])
def test_a_change_made_in_code_ends_sessions_too(app, web, person, change):
    """Whatever path changes the account (a service, FAB's user API, the CLI), the version is raised in the same
    transaction."""
    name = person()
    browser = web(name)
    token = token_of(app, name)["access_token"]
    change(app, app.appbuilder.sm.find_user(name))
    db.session.commit()

    assert not signed_in(browser)
    assert api_get(app, token).status_code == 401


def test_a_refresh_token_carries_the_session_and_ends_with_it(app, web, person):
    name = person()
    tokens = token_of(app, name, refresh=True)
    refresh = app.test_client().post("/api/v1/security/refresh",
                                     headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refresh.status_code == 200
    assert api_get(app, refresh.get_json()["access_token"]).status_code == 200

    sign_out(web(name))

    again = app.test_client().post("/api/v1/security/refresh",
                                   headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert again.status_code == 401
    assert api_get(app, refresh.get_json()["access_token"]).status_code == 401


def _refresh(app, token):
    return app.test_client().post("/api/v1/security/refresh", headers={"Authorization": f"Bearer {token}"})


def _refresh_token_idle_for(token, minutes):
    """Moves the token's last use back, as the clock moving on would."""
    from flask_jwt_extended import get_jti

    db.session.execute(sa.update(RefreshToken).where(RefreshToken.jti == get_jti(token))
                       .values(last_used_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_a_refresh_token_not_used_for_the_idle_limit_is_refused(app, person):
    name = person()
    refresh_token = token_of(app, name, refresh=True)["refresh_token"]
    _refresh_token_idle_for(refresh_token, 29)
    assert _refresh(app, refresh_token).status_code == 200  # in time: a use, which starts the idle time again
    _refresh_token_idle_for(refresh_token, 31)

    refused = _refresh(app, refresh_token)
    assert refused.status_code == 401
    assert refused.get_json() == {"message": "This refresh token was not used for 30 minutes, so it has ended. "
                                             "Sign in again."}
    assert _refresh(app, refresh_token).status_code == 401  # and for good: a refusal is not a use


def test_an_access_token_lasts_half_the_idle_limit_so_a_client_that_refreshes_when_it_expires_stays_signed_in(
        app, person):
    from flask_jwt_extended import decode_token

    tokens = token_of(app, person(), refresh=True)
    with app.app_context():
        claims = decode_token(tokens["access_token"])
    assert claims["exp"] - claims["iat"] == app.config["SESSION_IDLE_MINUTES"] * 60 / 2
    _refresh_token_idle_for(tokens["refresh_token"], app.config["SESSION_IDLE_MINUTES"] / 2 + 1)
    assert _refresh(app, tokens["refresh_token"]).status_code == 200


def _move_back(client, key, seconds):
    with client.session_transaction() as session:
        session[key] -= seconds


def test_a_session_idle_for_longer_than_the_timeout_is_signed_out_with_a_calm_message(app, web, person):
    name = person()
    browser = web(name)
    _move_back(browser, "seen_at", 29 * 60)
    assert signed_in(browser)  # a request within the time keeps the session alive, and counts as activity
    _move_back(browser, "seen_at", 31 * 60)

    answer = browser.get(SIGNED_IN_PAGE)
    assert answer.status_code == 302 and "/login/" in answer.headers["Location"]
    login_page = browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert "You were signed out after 30 minutes without activity" in login_page
    assert not signed_in(browser)


def test_a_session_older_than_its_lifetime_ends_however_active_it_was(app, web, person):
    name = person()
    browser = web(name)
    _move_back(browser, "signed_in_at", 11 * 3600)
    assert signed_in(browser)
    _move_back(browser, "signed_in_at", 2 * 3600)

    answer = browser.get(SIGNED_IN_PAGE)
    assert answer.status_code == 302
    assert "12 hours after signing in" in browser.get("/login/").get_data(as_text=True)


def test_an_ended_session_gets_401_from_the_api(app, web, person):
    name = person()
    browser = web(name)
    assert browser.get(MENU_API).status_code == 200  # FAB's own APIs also take the session cookie
    _move_back(browser, "seen_at", 31 * 60)

    answer = browser.get(MENU_API)
    assert answer.status_code == 401
    assert "30 minutes without activity" in answer.get_json()["message"]


def test_sign_in_starts_a_new_session_with_nothing_from_before(app, person):
    name = person("Staff")  # one step: what the password sign-in leaves in the session is all there is to see
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["session_id"] = "chosen-by-an-attacker"
        session["_remember"] = "set"  # a remember-me cookie is never issued, whatever asked for one
        before = dict(session)
    answer = client.post("/login/", data={"username": name, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert answer.status_code == 302

    with client.session_transaction() as session:
        after = dict(session)
    assert "planted" not in after and "_remember" not in after
    assert after["session_id"] not in (None, "chosen-by-an-attacker")
    assert after.get("csrf_token") != before.get("csrf_token")  # the form token from before sign-in is gone too
    assert abs(after["signed_in_at"] - time.time()) < 60
    assert "remember_token" not in {cookie.key for cookie in client._cookies.values()}
    assert signed_in(client)

    # Signing in again gives yet another session id.
    other = app.test_client()
    page = other.get("/login/").get_data(as_text=True)
    other.post("/login/", data={"username": name, "password": PASSWORD, "csrf_token": csrf_token(page)})
    with other.session_transaction() as session:
        assert session["session_id"] != after["session_id"]


def test_no_remember_me_cookie_even_when_a_sign_in_asks_for_one(app, ctx, person):
    from flask import session
    from flask_login import login_user

    user = app.appbuilder.sm.find_user(person())
    with app.test_request_context("/login/", method="POST"):
        login_user(user, remember=True)
        assert "_remember" not in session  # without it Flask-Login sets no remember-me cookie
        assert session["_user_id"] == str(user.id)
