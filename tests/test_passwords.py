"""The password rule holds wherever a password is set: forms, the API, FAB's CLI, and the demo set-up."""
import pytest
from flask_appbuilder.exceptions import PasswordComplexityValidationError

from app.identity.passwords import check_password
from tests.conftest import PASSWORD, csrf_token

WEAK = ["short1!", "Tr0ub4dor&3", "password1234", "1qaz2wsx3edc", "Q1W2E3R4T5Y6"]


@pytest.mark.parametrize("password", WEAK)
def test_short_and_common_passwords_are_refused(ctx, password):
    with pytest.raises(PasswordComplexityValidationError):
        check_password(password)


def test_a_long_uncommon_password_is_accepted(ctx):
    check_password("marmalade-lighthouse-quietly-7")


def test_changing_ones_own_password_to_a_weak_one_is_refused_and_changes_nothing(web, app):
    staff = web("staff2")
    page = staff.get("/resetmypassword/form").get_data(as_text=True)
    answer = staff.post("/resetmypassword/form", data={"password": "password1234", "conf_password": "password1234",
                                                       "csrf_token": csrf_token(page)})
    assert "too common" in answer.get_data(as_text=True)
    assert app.appbuilder.sm.auth_user_db("staff2", PASSWORD) is not None


def test_the_admin_cannot_add_a_user_with_a_weak_password(web, app):
    admin = web("admin")
    page = admin.get("/users/add").get_data(as_text=True)
    answer = admin.post("/users/add", data={
        "first_name": "Weak", "last_name": "Ling", "username": "weakling", "active": "y",
        "email": "weakling@example.org", "roles": [str(app.appbuilder.sm.find_role("Staff").id)],
        "password": "abc123456789", "conf_password": "abc123456789", "csrf_token": csrf_token(page)})
    assert "too common" in answer.get_data(as_text=True) or "at least 12" in answer.get_data(as_text=True)
    assert app.appbuilder.sm.find_user("weakling") is None


def test_the_security_manager_refuses_weak_passwords_so_fabs_cli_does_too(app, ctx):
    sm = app.appbuilder.sm  # `flask fab create-admin`, `create-user` and `reset-password` call these two
    assert sm.add_user("cliweak", "C", "W", "cliweak@example.org", sm.find_role("Admin"), "letmein123") is False
    assert sm.find_user("cliweak") is None
    with pytest.raises(PasswordComplexityValidationError):
        sm.reset_password(sm.find_user("staff2").id, "password1234")
    assert sm.auth_user_db("staff2", PASSWORD) is not None


def test_the_demo_set_up_refuses_a_weak_demo_password(app, ctx, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo")
    result = app.test_cli_runner().invoke(args=["prevent", "seed-demo"])
    assert result.exit_code != 0 and "DEMO_PASSWORD is not accepted" in result.output
