"""The front door in plain words (issue 12, points 4 and 6): "Sign in" and "Sign out", never "Login"/"Logout"; lists
with Yes/No and words, never True/False or stored names; buttons with text; officers' numbers to tap; the emergency
notice read in its turn, not announced as an alert on every page load. The same pages in a browser, with axe-core:
tests/test_accessibility.py."""
from __future__ import annotations

import re

import pytest

from tests.test_pages import text

FAB_PAGES = {
    "admin": ["/users/list/", "/roles/list/", "/concerntypeview/list/", "/users/show/1"],
    "lead": ["/indicatorview/list/", "/trainingcourseview/list/", "/indicatorview/show/1"],
}


def test_signing_in_and_out_say_sign_in_and_sign_out(web):
    sign_in_page = web(None).get("/login/").get_data(as_text=True)
    assert "<h1>Sign in</h1>" in sign_in_page
    assert re.search(r'<button type="submit"[^>]*>Sign in</button>', sign_in_page)
    home = web("staff").get("/").get_data(as_text=True)
    assert "Sign out" in home
    for page in (sign_in_page, home):
        assert not re.search(r"\bLog ?(in|out)\b", text(page), re.IGNORECASE)
        assert 'lang="en-GB"' in page and 'href="#main-content"' in page


@pytest.mark.parametrize(("role", "path"), [(role, path) for role, paths in FAB_PAGES.items() for path in paths])
def test_flask_appbuilders_pages_speak_plainly(web, role, path):
    response = web(role).get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = text(re.sub(r"<script.*?</script>", " ", page, flags=re.DOTALL))  # what is on the screen
    assert not re.search(r"\b(True|False|None)\b", shown), shown
    assert "contributory_factor" not in shown and "Record Count" not in shown
    # nor in the search's choices, which a script draws from JSON (where < and > are written \u003c and \u003e)
    assert not re.search(r"(>|\\u003e)contributory_factor(<|\\u003c)", page)
    assert page.count("<h1") == 1
    # No button is an icon alone: each link drawn as a button has words in it.
    for button in re.findall(r'<a [^>]*class="btn[^"]*"[^>]*>(.*?)</a>', page, re.DOTALL):
        assert text(button), f"a button without words on {path}"


def test_the_lists_say_yes_and_no_and_kinds_in_words(web):
    indicators = text(web("lead").get("/indicatorview/list/").get_data(as_text=True))
    assert "Contributory factor" in indicators and "Yes" in indicators
    users = text(web("admin").get("/users/list/").get_data(as_text=True))
    assert "Yes" in users


def test_the_officers_numbers_are_tap_to_call_and_the_emergency_notice_is_not_an_alert(app, web):
    page = web("staff").get("/concerns/new").get_data(as_text=True)
    contacts = app.config["SAFEGUARDING_CONTACTS"]
    for contact in contacts:
        number = re.sub(r"[\s()-]", "", contact["phone"])
        assert f'<a href="tel:{number}">{contact["phone"]}</a>' in page
    notice = re.search(r'<section class="panel emergency"[^>]*>', page)
    assert notice and 'role="alert"' not in notice.group(0)
    assert 'class="panel panel-danger emergency" role="alert"' not in page
