"""By keyboard alone, in Debian's Chromium: a concern raised from the sign-in page to the confirmation in at most 40
navigation key presses (Tab, Shift+Tab, arrows, Space, Enter; typing is not counted), and an empty concern answered
with an error summary that takes the focus and links each error to its field (GOV.UK's pattern)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.test_browser import REFERENCE_RE, UK, chromium, live_server  # noqa: F401 (its fixtures; skips without Chromium)

# The live server's threads are connections of their own: a database of the test's own (commits).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("test_browser"), pytest.mark.commits]

MOST_KEY_PRESSES = 40
NAVIGATION_KEYS = {"Tab", "Shift+Tab", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight", "Space", "Enter"}


class Keyboard:
    """Presses keys on a page as a person would, counting the navigation keys; typing text is not counted."""

    def __init__(self, page: Page):
        self.page, self.presses = page, 0

    def press(self, key: str) -> None:
        assert key in NAVIGATION_KEYS, key
        self.presses += 1
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def focused(self, selector: str) -> bool:
        return self.page.evaluate("s => document.activeElement !== null && document.activeElement.matches(s)",
                                  selector)

    def tab_to(self, selector: str, most: int = 40) -> None:
        """Tab (forwards, as a person reading the page would) until `selector` has the focus."""
        for _ in range(most):
            if self.focused(selector):
                return
            self.press("Tab")
        assert self.focused(selector), f"{selector} is not reached by Tab"

    def skip_to_content(self) -> None:
        """On a page with a skip link as its first Tab stop, follow it (a keyboard user would)."""
        self.press("Tab")
        if self.focused("a[href^='#'].skip-link, a[href='#main'], a[href='#content']"):
            self.press("Enter")


@pytest.fixture()
def keyboard_page(chromium, live_server):  # noqa: F811 (fixtures imported from test_browser)
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_concern_is_raised_by_keyboard_alone_in_at_most_40_key_presses(keyboard_page, record_property, capsys):
    page = keyboard_page
    keys = Keyboard(page)
    name = f"Keyboard Subject {uuid.uuid4().hex[:8]}"
    happened = datetime.now(UK) - timedelta(hours=3)

    page.goto("/login/")
    keys.tab_to("input[name=username]")
    keys.type("staff")
    keys.tab_to("input[name=password]")
    keys.type(PASSWORD)
    keys.press("Enter")

    page.wait_for_selector(".home")
    keys.skip_to_content()
    keys.tab_to(".home a[href*='/concerns/new']")
    keys.press("Enter")

    expect(page.get_by_role("heading", name="Raise a concern")).to_be_visible()
    keys.skip_to_content()
    keys.tab_to("#subject-full_name")
    keys.type(name)
    keys.tab_to("#subject-subject_type")
    keys.press("ArrowDown")  # "A learner", the first choice
    expect(page.locator("#subject-subject_type")).to_have_value("learner")
    keys.tab_to("#description")
    keys.type(f'{name} said "they will pay for this" in the library.')
    keys.tab_to("#occurred_at")  # the day box: then month, year and the time, one Tab each
    keys.type(str(happened.day))
    keys.press("Tab")
    keys.type(str(happened.month))
    keys.press("Tab")
    keys.type(str(happened.year))
    keys.press("Tab")
    assert keys.focused("#occurred_at-time")
    keys.type(happened.strftime("%H:%M"))
    keys.press("Enter")  # sends the form, as its button would

    expect(page.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    assert REFERENCE_RE.fullmatch(page.locator(".reference").inner_text())
    record_property("navigation_key_presses", keys.presses)
    with capsys.disabled():
        print(f"\nA concern raised by keyboard alone: {keys.presses} navigation key presses "
              f"(at most {MOST_KEY_PRESSES}), typing not counted.")
    assert keys.presses <= MOST_KEY_PRESSES


def test_an_empty_concern_puts_the_focus_on_a_summary_that_links_each_error_to_its_field(keyboard_page, app):
    from tests.conftest import sign_in_browser

    page = keyboard_page
    sign_in_browser(page, app, "staff")
    page.goto("/concerns/new")
    page.get_by_role("button", name="Send to the Safeguarding Officers").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_have_attribute("tabindex", "-1")
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    links = summary.get_by_role("link")
    expected = {"Enter the full name of the person the concern is about": "subject-full_name",
                "Choose who they are: a learner, a colleague or someone else": "subject-subject_type",
                "Enter what you saw or heard": "description",
                "Enter the date it happened": "occurred_at"}
    expect(links).to_have_text(list(expected))
    for message, field_id in expected.items():
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        described = field.get_attribute("aria-describedby").split()
        assert page.locator(f"#{described[-1]}").inner_text().endswith(message)
    # A link takes the focus to its field.
    links.filter(has_text="Enter what you saw or heard").click()
    expect(page.locator("#description")).to_be_focused()
