"""No 500 from Flask-AppBuilder's generic routes for any role (issue 10, finding 8): the bulk-action routes (FAB's
`muldelete` and any other action name) and the add and edit forms of every model page, posted empty. The routes are
found in the url_map, so a page added later is tried too."""
from __future__ import annotations

import pytest
from flask_appbuilder import ModelView

from tests.conftest import csrf_token

ROLES = ("staff", "officer", "lead", "director", "governance", "admin", None)  # None: not signed in


def action_routes(app) -> list[str]:
    """Every FAB action route, with the name FAB crashed on, a row id and one that is not a row."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith(".action_post"):
            urls.append(rule.rule)
        elif rule.endpoint.endswith(".action"):
            urls += [rule.rule.replace("<string:name>", name).replace("<pk>", pk)
                     for name in ("muldelete", "resetpasswords", "copyrole") for pk in ("1", "999999", "x")]
    return sorted(urls)


def model_forms(app) -> list[str]:
    """The add and edit form of every model page (FAB's own and ours), for its first row."""
    urls = []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ModelView):
            continue
        first = view.datamodel.session.query(view.datamodel.obj).first()
        endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
        name = type(view).__name__
        if f"{name}.add" in endpoints:
            urls.append(f"{view.route_base}/add")
        if f"{name}.edit" in endpoints and first is not None:
            urls.append(f"{view.route_base}/edit/{view.datamodel.get_pk_value(first)}")
    return sorted(urls)


@pytest.mark.parametrize("role", ROLES)
def test_no_action_route_and_no_empty_model_form_answers_a_server_error(app, web, role):
    client = web(role)
    token = csrf_token(client.get("/concerns/new" if role else "/login/").get_data(as_text=True))
    actions, forms = action_routes(app), model_forms(app)
    assert {"/users/action_post", "/roles/action_post", "/permissions/action_post"} <= set(actions)
    assert {"/indicatorview/add", "/concerntypeview/add", "/trainingcourseview/add", "/users/add"} <= set(forms)
    answers = {}
    for url in actions:
        answers[url] = client.post(url, data={"action": "muldelete", "rowid": ["1", "999999"],
                                              "csrf_token": token}).status_code
    for url in forms:
        answers[url] = client.post(url, data={"csrf_token": token}).status_code
    assert not {url: status for url, status in answers.items() if status >= 500}


def test_the_lead_is_told_what_to_fix_in_an_empty_indicator_form_and_nothing_is_added(web, ctx):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Indicator
    lead = web("lead")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Indicator))
    page = lead.post("/indicatorview/add", data={"csrf_token": csrf_token(lead.get("/indicatorview/add")
                                                                          .get_data(as_text=True))})
    assert page.status_code == 200 and "Choose one." in page.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Indicator)) == count
