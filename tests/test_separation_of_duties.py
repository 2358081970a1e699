"""Separation of duties over users and roles (issue 10, finding 2): an Admin cannot make themselves (or anyone, alone)
Prevent Lead or Safeguarding Officer, and every change to users leaves an audit event with a reason and an email to
the Prevent Lead. The last test walks every Flask-AppBuilder security route in the url_map as the Admin."""
from __future__ import annotations

import html
import itertools
import re

import pytest
import sqlalchemy as sa
from flask import g, url_for

from app.extensions import db
from app.identity import accounts
from app.models import AuditEvent, RoleGrantRequest, RoleGrantStatus
from tests.conftest import PASSWORD, csrf_token, deliver, user

LEAD_EMAIL = "lead@example.org"
_numbers = itertools.count(1)


def role_id(name: str) -> int:
    from flask import current_app
    return current_app.appbuilder.sm.find_role(name).id


def fresh(username: str):
    db.session.rollback()
    return user(username)


def roles_of(username: str) -> list[str]:
    return sorted(role.name for role in fresh(username).roles)


def last_seq() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0


def events_since(seq: int) -> list[AuditEvent]:
    db.session.rollback()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)).all()


def token(client) -> str:
    return csrf_token(client.get("/concerns/new").get_data(as_text=True))


def edit_user(client, username: str, *, roles: list[str], reason: str | None = "Joined the team", **fields):
    """Posts the Admin's user form for `username` with its current details, these roles and changes."""
    person = fresh(username)
    form = {"first_name": person.first_name, "last_name": person.last_name, "username": person.username,
            "email": person.email, "roles": [str(role_id(name)) for name in roles], "csrf_token": token(client)}
    if person.active:
        form["active"] = "y"
    form.update(fields)
    if reason is not None:
        form["reason"] = reason
    return client.post(f"/users/edit/{person.id}", data=form, follow_redirects=True)


def flashed(response) -> str:
    messages = re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    return " ".join(html.unescape(" ".join(message.split())) for message in messages)


def lead_told(inbox, messages: list | None = None) -> list:
    return [m for m in (deliver(inbox) if messages is None else messages)
            if m["To"] == LEAD_EMAIL and m["Subject"] == "A user account or role changed"]


def person_told(messages: list, address: str) -> list:
    return [m for m in messages if m["To"] == address and m["Subject"] == "Your account was changed"]


# --- the attack: an Admin makes themselves Lead -------------------------------------------------------------------

def test_an_admin_who_gives_themselves_the_lead_role_is_refused_and_nothing_changes(web, new_user):
    admin_name = new_user("Admin", prefix="admin")
    admin = web(admin_name)
    before = last_seq()
    response = edit_user(admin, admin_name, roles=["Admin", "Prevent Lead"], reason="I need to read cases")
    assert "You cannot change your own roles" in flashed(response)
    assert roles_of(admin_name) == ["Admin"]
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(RoleGrantRequest)
                                 .where(RoleGrantRequest.user_id == fresh(admin_name).id))
    assert events_since(before) == []
    # Swapping their role for the Lead's, signing in again: still an Admin, still no cases.
    edit_user(admin, admin_name, roles=["Prevent Lead"])
    assert roles_of(admin_name) == ["Admin"]
    assert web(admin_name).get("/cases/").status_code == 403


def test_an_admin_cannot_change_their_own_roles_through_the_security_api(web, api, new_user):
    admin_name = new_user("Admin", prefix="admin")
    own_id = fresh(admin_name).id
    body = {"roles": [role_id("Prevent Lead")]}
    assert api(admin_name).put(f"/api/v1/security/users/{own_id}", json=body).status_code == 403
    assert api(admin_name).put(f"/api/v1/security/roles/{role_id('Admin')}/users",
                               json={"user_ids": [own_id]}).status_code == 403
    # The API also takes the browser's session cookie: refused the same way.
    browser = web(admin_name)
    assert browser.put(f"/api/v1/security/users/{own_id}", json=body).status_code == 403
    assert roles_of(admin_name) == ["Admin"]


def test_any_code_serving_a_request_is_held_to_the_rules(app, ctx, new_user):
    """Whatever path a request takes to the database (FAB's forms, its REST API, a view added later), the guard at
    flush refuses: one's own roles, a Lead or Officer role without approval, and any change to roles themselves."""
    admin_name, staff_name = new_user("Admin", prefix="admin"), new_user("Staff", prefix="staff")
    sm = app.appbuilder.sm

    def own_roles():
        person = fresh(admin_name)
        person.roles.append(sm.find_role("Governance"))
        return person

    def lead_without_approval():
        person = fresh(staff_name)
        person.roles.append(sm.find_role("Prevent Lead"))
        return person

    def role_permissions():
        role = sm.find_role("Staff")
        role.permissions.append(sm.find_permission_view_menu("can_read_all", "Case"))
        return role

    def role_name():
        role = sm.find_role("Governance")
        role.name = "Prevent Lead 2"
        return role

    for attempt in (own_roles, lead_without_approval, role_permissions, role_name):
        with app.test_request_context():
            g.user = fresh(admin_name)
            changed = attempt()  # noqa: F841  (held until the commit: the session keeps only weak references)
            with pytest.raises(accounts.AccountChangeRefused):
                db.session.commit()
            db.session.rollback()
    assert roles_of(admin_name) == ["Admin"] and roles_of(staff_name) == ["Staff"]
    assert ("can_read_all", "Case") not in {(pv.permission.name, pv.view_menu.name)
                                            for pv in sm.find_role("Staff").permissions}


# --- a second person's approval -------------------------------------------------------------------------------

def test_the_lead_role_is_given_only_when_a_second_person_approves(web, new_user, inbox):
    admin_name, staff_name = new_user("Admin", prefix="admin"), new_user("Staff", prefix="staff")
    admin = web(admin_name)
    before = last_seq()
    response = edit_user(admin, staff_name, roles=["Staff", "Prevent Lead"], reason="New deputy Prevent Lead")
    assert "needs a second person's approval" in flashed(response)
    assert roles_of(staff_name) == ["Staff"]
    grant = db.session.scalar(sa.select(RoleGrantRequest).where(RoleGrantRequest.user_id == fresh(staff_name).id))
    assert grant.status is RoleGrantStatus.pending and grant.role.name == "Prevent Lead"
    assert [(e.action, e.actor, e.reason) for e in events_since(before)] == [
        ("user_updated", admin_name, "New deputy Prevent Lead"),
        ("role_grant_requested", admin_name, "New deputy Prevent Lead")]
    assert len(lead_told(inbox)) == 2

    # The Admin who asked cannot approve it; nor can the person it is for.
    page = admin.get("/role-grants/").get_data(as_text=True)
    assert "Someone else decides" in page
    admin.post(f"/role-grants/{grant.id}/approve", data={"reason": "Fine by me", "csrf_token": token(admin)})
    assert roles_of(staff_name) == ["Staff"]
    staff = web(staff_name)
    assert staff.post(f"/role-grants/{grant.id}/approve",
                      data={"reason": "Yes", "csrf_token": token(staff)}).status_code == 403
    assert roles_of(staff_name) == ["Staff"]

    # The Prevent Lead approves, with a reason: the role is given, audited, and the Lead told.
    lead = web("lead")
    before = last_seq()
    lead.post(f"/role-grants/{grant.id}/approve", data={"reason": "Confirmed with HR", "csrf_token": token(lead)})
    assert roles_of(staff_name) == ["Prevent Lead", "Staff"]
    events = events_since(before)
    assert [(e.action, e.actor) for e in events] == [("role_grant_approved", "lead"), ("user_roles_changed", "lead")]
    assert events[1].changes["roles"] == {"old": ["Staff"], "new": ["Prevent Lead", "Staff"]}
    assert "Confirmed with HR" in events[1].reason
    assert len(lead_told(inbox)) == 1
    # Decided once.
    lead.post(f"/role-grants/{grant.id}/decline", data={"reason": "Changed my mind", "csrf_token": token(lead)})
    assert roles_of(staff_name) == ["Prevent Lead", "Staff"]


def test_one_admin_cannot_make_a_second_admin_account_to_approve_through(web, new_user):
    admin = web(new_user("Admin", prefix="admin"))
    name = f"second-admin-{next(_numbers)}"
    admin.post("/users/add", data={
        "first_name": "Second", "last_name": "Account", "username": name, "email": f"{name}@example.org",
        "active": "y", "roles": [str(role_id("Admin"))], "password": PASSWORD, "conf_password": PASSWORD,
        "reason": "Extra pair of hands", "csrf_token": token(admin)})
    assert roles_of(name) == []
    assert db.session.scalar(sa.select(RoleGrantRequest.status).where(RoleGrantRequest.user_id == fresh(name).id)) \
        is RoleGrantStatus.pending


def test_a_second_admin_may_decline_a_request_and_nothing_is_given(web, new_user):
    asking, second = new_user("Admin", prefix="admin"), new_user("Admin", prefix="admin")
    staff_name = new_user("Staff", prefix="staff")
    edit_user(web(asking), staff_name, roles=["Staff", "Safeguarding Officer"], reason="Covering leave")
    grant_id = db.session.scalar(sa.select(RoleGrantRequest.id).where(RoleGrantRequest.user_id == fresh(staff_name).id))
    client = web(second)
    before = last_seq()
    client.post(f"/role-grants/{grant_id}/decline", data={"reason": "Not trained yet", "csrf_token": token(client)})
    assert roles_of(staff_name) == ["Staff"]
    assert [(e.action, e.actor, e.reason) for e in events_since(before)] == [
        ("role_grant_declined", second, "Not trained yet")]


def test_a_new_user_asked_for_with_the_officer_role_waits_for_approval(web, new_user):
    admin = web(new_user("Admin", prefix="admin"))
    name = f"new-officer-{next(_numbers)}"
    response = admin.post("/users/add", follow_redirects=True, data={
        "first_name": "New", "last_name": "Officer", "username": name, "email": f"{name}@example.org", "active": "y",
        "roles": [str(role_id("Safeguarding Officer"))], "password": PASSWORD, "conf_password": PASSWORD,
        "reason": "Started today", "csrf_token": token(admin)})
    assert "needs a second person's approval" in flashed(response)
    assert roles_of(name) == []
    created = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user_created",
                                                            AuditEvent.entity_id == str(fresh(name).id)))
    assert created.reason == "Started today" and created.changes["password"] == {"old": None, "new": "changed"}
    assert fresh(name).password not in str(created.changes)


def test_the_break_glass_admin_gives_the_role_directly_audited_and_told(app, web, new_user, inbox, monkeypatch):
    admin_name, staff_name = new_user("Admin", prefix="admin"), new_user("Staff", prefix="staff")
    monkeypatch.setitem(app.config, "BREAK_GLASS_ADMIN", admin_name)
    admin = web(admin_name)
    before = last_seq()
    edit_user(admin, staff_name, roles=["Staff", "Safeguarding Officer"], reason="Emergency cover")
    assert roles_of(staff_name) == ["Safeguarding Officer", "Staff"]
    [event] = events_since(before)
    assert event.action == "user_updated" and event.reason == "Emergency cover"
    assert event.changes["given_by_break_glass_admin"] == {"old": None, "new": True}
    assert len(lead_told(inbox)) == 1
    # Even the break-glass account cannot change its own roles.
    edit_user(admin, admin_name, roles=["Admin", "Prevent Lead"])
    assert roles_of(admin_name) == ["Admin"]


# --- every change audited, with a reason, and told to the Lead --------------------------------------------------

def test_every_change_an_admin_makes_to_a_user_is_audited_with_the_reason_and_told_to_the_lead(web, new_user, inbox):
    admin = web("admin")
    staff_name = new_user("Staff", prefix="staff")
    person_id = fresh(staff_name).id

    before = last_seq()
    edit_user(admin, staff_name, roles=["Staff", "Governance"], email=f"moved-{staff_name}@example.org",
              reason="Joined the Board")
    [event] = events_since(before)
    assert (event.action, event.actor, event.reason) == ("user_updated", "admin", "Joined the Board")
    assert event.changes["roles"] == {"old": ["Staff"], "new": ["Governance", "Staff"]}
    assert event.changes["email"]["new"] == f"moved-{staff_name}@example.org"
    messages = deliver(inbox)
    assert len(lead_told(inbox, messages)) == 1
    assert len(person_told(messages, f"{staff_name}@example.org")) == 1  # at the address they had

    before = last_seq()
    edit_user(admin, staff_name, roles=["Staff"], active="", reason="Left the college")
    [event] = events_since(before)
    assert (event.action, event.reason) == ("user_deactivated", "Left the college")
    assert event.changes["active"] == {"old": True, "new": False}
    assert len(lead_told(inbox)) == 1

    before = last_seq()
    page = admin.get(f"/resetpassword/form?pk={person_id}")
    admin.post(f"/resetpassword/form?pk={person_id}", data={
        "password": "another-long-passphrase-77", "conf_password": "another-long-passphrase-77",
        "reason": "Locked out, checked by phone", "csrf_token": csrf_token(page.get_data(as_text=True))})
    [event] = events_since(before)
    assert (event.action, event.reason) == ("password_reset", "Locked out, checked by phone")
    assert event.changes == {"password": {"old": None, "new": "changed"}}
    messages = deliver(inbox)
    assert len(lead_told(inbox, messages)) == 1
    assert len(person_told(messages, f"moved-{staff_name}@example.org")) == 1

    # The Lead reads who, what and why on the role grants page.
    page = web("lead").get("/role-grants/").get_data(as_text=True)
    assert "Left the college" in page and "Locked out, checked by phone" in page


def test_a_change_without_a_reason_is_refused_and_changes_nothing(web, new_user):
    staff_name = new_user("Staff", prefix="staff")
    before = last_seq()
    edit_user(web("admin"), staff_name, roles=["Staff", "Governance"], reason=None)
    edit_user(web("admin"), staff_name, roles=["Staff", "Governance"], reason="   ")
    assert roles_of(staff_name) == ["Staff"]
    assert events_since(before) == []


def test_users_are_deactivated_never_deleted(web, new_user):
    staff_name = new_user("Staff", prefix="staff")
    admin = web("admin")
    assert admin.post(f"/users/delete/{fresh(staff_name).id}", data={"csrf_token": token(admin)}).status_code == 404
    assert fresh(staff_name) is not None


def test_the_command_line_and_set_up_still_add_users_and_reset_passwords(app, ctx, new_user):
    name = new_user("Safeguarding Officer", prefix="cli")
    assert roles_of(name) == ["Safeguarding Officer"]
    before = last_seq()
    app.appbuilder.sm.reset_password(fresh(name).id, "a-new-long-passphrase-12")
    [event] = events_since(before)
    assert event.action == "password_reset" and event.actor.startswith("cli:")


# --- every FAB security route, walked as the Admin ----------------------------------------------------------------

ACCOUNT_TABLES = ("ab_user_role", "ab_role", "ab_permission", "ab_view_menu", "ab_permission_view",
                  "ab_permission_view_role", "ab_group", "ab_user_group", "ab_group_role", "role_grant_request")
# Sign-in and sign-out: the subject of tests/test_brute_force.py and tests/test_sessions.py, not a change to anyone.
SIGN_IN_ENDPOINTS = {"AuthDBView.login", "AuthDBView.logout", "SecurityApi.login", "SecurityApi.refresh",
                     "SecurityApi.logout"}


def accounts_state() -> tuple:
    """Everything about users, roles and permissions that a write could change (not sign-in counts and times)."""
    db.session.rollback()
    rows = [db.session.execute(sa.text(
        "SELECT id, username, email, active, password, first_name, last_name FROM ab_user ORDER BY id")).all()]
    rows += [db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all() for table in ACCOUNT_TABLES]
    return tuple(tuple(map(tuple, table)) for table in rows)


def security_endpoints(app) -> set[str]:
    """Every endpoint of FAB's security views and APIs (and ours beside them), found in the url_map: a route that
    FAB or we add later is walked too."""
    from flask_appbuilder.security import views as fab_views
    from flask_appbuilder.security.sqla import apis as fab_apis

    from app.identity.pages import RoleGrantView
    fab_modules = (fab_views.__name__, fab_apis.__name__, "flask_appbuilder.security.api")
    names = {type(view).__name__ for view in app.appbuilder.baseviews
             if isinstance(view, RoleGrantView) or any(cls.__module__.startswith(fab_modules)
                                                       for cls in type(view).__mro__)}
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in names} - SIGN_IN_ENDPOINTS


def test_every_security_route_the_admin_reaches_leaves_an_audit_event_or_changes_nothing(app, web, new_user):
    endpoints = security_endpoints(app)
    assert {"UserDBModelView.edit", "UserDBModelView.add", "RoleModelView.edit", "PermissionViewModelView.add",
            "UserApi.put", "RoleApi.add_role_permissions", "GroupApi.post", "UserStatsChartView.chart",
            "RoleGrantView.approve", "ResetPasswordView.this_form_post"} <= endpoints
    victim = new_user("Staff", prefix="victim")
    victim_id = fresh(victim).id
    # A request by another Admin, for the Admin to decide.
    edit_user(web(new_user("Admin", prefix="admin")), new_user("Staff", prefix="staff"),
              roles=["Staff", "Prevent Lead"], reason="Deputy")
    grant_id = db.session.scalar(sa.select(sa.func.max(RoleGrantRequest.id)))
    lead_role, staff_role = role_id("Prevent Lead"), role_id("Staff")
    permission_view = app.appbuilder.sm.find_permission_view_menu("can_read_all", "Case").id
    admin = web("admin")
    pk_for = {"UserDBModelView": victim_id, "UserApi": victim_id, "RoleGrantView": grant_id}
    changed, walked = set(), 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if rule.endpoint not in endpoints:
            continue
        view = rule.endpoint.split(".")[0]
        pk = pk_for.get(view, staff_role if "Role" in view else 1)
        args = {"pk": pk, "role_id": staff_role, "name": "muldelete", "group_by": "username", "filename": "x.csv"}
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: args[arg] for arg in rule.arguments}) + f"?pk={victim_id}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            n = next(_numbers)
            # The Admin's own name, in case a form is their own details: other tests know them by it.
            fields = {"first_name": "Admin", "last_name": "Tester", "username": f"walked-{n}",
                      "email": f"walked-{n}@example.org", "active": True, "roles": [lead_role],
                      "password": PASSWORD, "conf_password": PASSWORD, "reason": "Route walk", "name": f"Walk {n}",
                      "label": f"Walk {n}", "permissions": [permission_view], "permission_view_menu_ids":
                      [permission_view], "user_ids": [fresh("admin").id], "group_ids": [1]}
            before_state, before_seq = accounts_state(), last_seq()
            if view.endswith("Api"):
                response = admin.open(url, method=method, json=fields)
            else:
                form = {**fields, "active": "y", "action": "muldelete", "rowid": [str(pk)], "csrf_token": token(admin)}
                form["roles"] = [str(lead_role)]
                form["permissions"] = [str(permission_view)]
                response = admin.open(url, method=method, data=form)
            walked += 1
            assert response.status_code < 500, (rule.endpoint, method, response.status_code)
            if accounts_state() != before_state:
                changed.add(rule.endpoint)
                new = events_since(before_seq)
                assert any(e.entity_type in accounts.ACCOUNT_ENTITIES for e in new), (rule.endpoint, method)
                assert all(e.actor == "admin" and (e.reason or e.action in ("password_changed",
                                                                            "user_details_changed"))
                           for e in new), (rule.endpoint, method)
    assert walked > 100
    # What an Admin may change, they did, audited; nothing else changed.
    assert changed == {"UserDBModelView.add", "UserDBModelView.edit", "ResetPasswordView.this_form_post",
                       "ResetMyPasswordView.this_form_post", "RoleGrantView.approve"}, changed
    assert roles_of("admin") == ["Admin"]


def test_syncing_the_roles_from_the_code_audits_each_role_it_changes(app, ctx):
    from app.cli import sync_roles
    sm = app.appbuilder.sm
    governance = sm.find_role("Governance")
    governance.permissions.remove(sm.find_permission_view_menu("can_read", "BoardReport"))
    db.session.commit()  # as a database superuser might: set-up code, outside any request
    before = last_seq()
    sync_roles()
    [event] = events_since(before)
    assert (event.action, event.entity_type, event.actor[:4]) == ("role_permissions_synced", "Role", "cli:")
    assert event.changes["permissions_added"]["new"] == ["can read on BoardReport"]
    sync_roles()
    assert events_since(event.seq) == []
