"""Nothing typed is lost, in Debian's Chromium: a concern half written when the session idles out. The warning
dialog comes first (with a short SESSION_IDLE_MINUTES, set on the session's app for this test only); "Stay signed
in" keeps the session; left alone, the session ends, the sign-in page returns to the form, and every word is there.
"""
from __future__ import annotations

import os
import re
import uuid

import pytest

from tests.browsers import CHROMIUM, chromium_browser, served
from tests.conftest import PASSWORD, sign_in_browser

if not os.path.exists(CHROMIUM):
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

# With tests/test_browser.py on one worker: one Chromium at a time.
# The live server's threads are connections of their own: a database of the test's own (commits).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("test_browser"), pytest.mark.commits]

IDLE_SECONDS, WARNING_SECONDS = 6, 3  # the real ones are 30 minutes and 2 minutes


@pytest.fixture(scope="module")
def browser_page(app):
    """A page in Chromium of its own, against the session's app served on a free port."""
    with served(app, "live-server-drafts") as address, chromium_browser() as browser:
        context = browser.new_context(base_url=address, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        yield context.new_page()


@pytest.fixture()
def short_sessions(app):
    """short_sessions(True) makes sessions idle out in IDLE_SECONDS, with the warning WARNING_SECONDS before;
    short_sessions(False), and the end of the test, put the configured limits back (the app is the session's)."""
    configured = app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_IDLE_WARNING_SECONDS"]

    def switch(short: bool) -> None:
        app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_IDLE_WARNING_SECONDS"] = \
            (IDLE_SECONDS / 60, WARNING_SECONDS) if short else configured

    yield switch
    switch(False)


def test_a_concern_half_written_when_the_session_idles_out_is_all_there_after_signing_in_again(
        app, browser_page, short_sessions):
    page = browser_page
    sign_in_browser(page, app, "staff")
    short_sessions(True)
    marker = uuid.uuid4().hex[:8]
    words = {"name": f"Idle Subject {marker}", "said": f'They said "{marker} will pay" in the canteen.',
             "more": " Then they left before the end of the lesson.", "where": f"Canteen {marker}"}

    page.goto("/concerns/new")
    page.get_by_label("Someone is in immediate danger").check()
    page.locator("input[name=police_called][value=no]").check()
    page.get_by_label("Police incident number").fill(f"INC-{marker}")
    page.get_by_label("Full name").fill(words["name"])
    page.get_by_label("They are").select_option("learner")
    page.locator("#description").fill(words["said"])
    page.get_by_label("Where?").fill(words["where"])
    page.get_by_label("Withdrawn", exact=True).check()
    expect(page.locator(".draft-status")).to_contain_text("Draft saved")

    # The warning comes before the end, takes the focus, and "Stay signed in" keeps the session.
    dialog = page.get_by_role("alertdialog", name="You are about to be signed out")
    expect(dialog).to_be_visible()
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(dialog).to_contain_text("Anything you typed is kept")
    stay.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("Withdrawn", exact=True)).to_be_focused()  # back where the user was
    page.locator("#description").press("End")
    page.locator("#description").type(words["more"])
    expect(page).to_have_url(re.compile(r"/concerns/new$"))

    # Left alone this time: the warning again, then the sign-in page, which says why.
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/\?next="), timeout=4 * IDLE_SECONDS * 1000)
    expect(page.locator("body")).to_contain_text("without activity")
    short_sessions(False)

    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/concerns/new$"))
    expect(page.get_by_role("status")).to_contain_text("is back in this form")
    expect(page.get_by_label("Someone is in immediate danger")).to_be_checked()
    expect(page.locator("input[name=police_called][value=no]")).to_be_checked()
    expect(page.get_by_label("Police incident number")).to_have_value(f"INC-{marker}")
    expect(page.get_by_label("Full name")).to_have_value(words["name"])
    expect(page.get_by_label("They are")).to_have_value("learner")
    expect(page.locator("#description")).to_have_value(words["said"] + words["more"])
    expect(page.get_by_label("Where?")).to_have_value(words["where"])
    expect(page.get_by_label("Withdrawn", exact=True)).to_be_checked()
