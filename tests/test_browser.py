"""The journeys people take, in Debian's Chromium driven by Playwright, against the session's app on a live server.

Run only these with `pytest -m browser`; skip them with `-m "not browser"`. Set SCREENSHOTS=1 to refresh the README's
screenshots in docs/screenshots/.
"""
from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browsers import CHROMIUM, chromium_browser, served
from tests.conftest import sign_in_browser
from tests.sample_files import PNG

if not os.path.exists(CHROMIUM):
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

# One worker runs the module whole (make test distributes by xdist_group): one Chromium and one live server. The live
# server's threads connect to the database themselves: each test has a database of its own (`commits`).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("test_browser"), pytest.mark.commits]

SCREENSHOT_DIR = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
UK = ZoneInfo("Europe/London")
REFERENCE_RE = re.compile(r"PC-\d{4}-\d{4,}")


@pytest.fixture(scope="module")
def live_server(app):
    """The session's app (FAB allows one per process) served on a free port for the module's tests."""
    with served(app) as address:
        yield address


@pytest.fixture(scope="module")
def chromium():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture()
def sign_in(app, chromium, live_server):
    """sign_in("officer") is a page in a browser of its own (own cookies), signed in through the login form (and the
    second step where the user has one)."""
    contexts = []

    def make(username: str) -> Page:
        context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        sign_in_browser(page, app, username)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    """Saved for the README only when asked for, so that a test run writes no files."""
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True)


def open_case_from_list(page: Page, reference: str) -> None:
    """Pages through /cases/ until the case's link shows, then opens it."""
    link = page.get_by_role("link", name=reference, exact=True)
    for _ in range(50):
        if link.count():
            link.click()
            return
        page.get_by_role("link", name="Next").click()
    pytest.fail(f"{reference} is not in the case list")


def fill_date(page: Page, field_id: str, day: str, month: str, year: str, time: str | None = None) -> None:
    """Fills GOV.UK date boxes (the day box carries the field's id), and the time box when there is one."""
    page.locator(f"#{field_id}").fill(day)
    page.locator(f"#{field_id}-month").fill(month)
    page.locator(f"#{field_id}-year").fill(year)
    if time is not None:
        page.locator(f"#{field_id}-time").fill(time)


def take_decision(page: Page, event: str, reason: str, **choices: str) -> None:
    """Opens a decision form on the case page, fills it in and sends it."""
    form = page.locator(f"#event-{event}")
    form.locator("summary").click()
    for field, value in choices.items():
        form.locator(f"#{event}-{field}").select_option(value)
    form.get_by_label("Decision and reasons").fill(reason)
    form.locator("button[type=submit]").click()
    # The page opens again where the decision was made, saying what happened and the state it left the case in.
    expect(page.locator("#decide ~ .alert-success[role=status]", has_text=re.compile(r"\. The case is now ")))\
        .to_be_visible()
    assert page.url.endswith("#decide")


def test_staff_raise_an_urgent_concern_and_an_officer_acknowledges_and_closes_it(sign_in):
    subject = f"Browser Subject {uuid.uuid4().hex[:8]}"
    description = f'{subject} said "you will all regret this" in the workshop.'

    # Staff: the concern form, with the emergency line before anything else.
    staff = sign_in("staff")
    staff.locator(".home").get_by_role("link", name="Raise a concern").click()
    expect(staff.get_by_role("heading", name="Raise a concern")).to_be_visible()
    expect(staff.get_by_text("If anyone is in immediate danger, call 999 first.")).to_be_visible()
    screenshot(staff, "concern-form.png")

    police_question = staff.get_by_text("Have the police been called (999)?")
    expect(police_question).to_be_hidden()
    staff.get_by_label("Someone is in immediate danger").check()
    expect(police_question).to_be_visible()
    staff.locator("input[name=police_called][value=yes]").check()
    staff.get_by_label("Police incident number").fill("INC-2207")

    staff.get_by_label("Full name").fill(subject)
    staff.get_by_label("They are").select_option("learner")
    fill_date(staff, "subject-date_of_birth", "14", "9", "2007")  # day, month and year boxes
    staff.locator("#description").fill(description)
    happened = datetime.now(UK) - timedelta(hours=1)
    fill_date(staff, "occurred_at", str(happened.day), str(happened.month), str(happened.year),
              happened.strftime("%H:%M"))
    staff.get_by_label("Withdrawn", exact=True).check()
    staff.get_by_label("Change in social circles", exact=True).check()
    staff.get_by_label("Attach files").set_input_files(files=[{"name": "photo.png", "mimeType": "image/png",
                                                               "buffer": PNG}])
    staff.get_by_role("button", name="Send to the Safeguarding Officers").click()

    expect(staff.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    reference = staff.locator(".reference").inner_text()
    assert REFERENCE_RE.fullmatch(reference), reference

    # Officer: the case list puts urgent cases first; the new one is among them.
    officer = sign_in("officer")
    officer.get_by_role("link", name="Cases", exact=True).first.click()
    expect(officer.get_by_role("heading", name=re.compile("^Cases"))).to_be_visible()
    expect(officer.locator("table.case-list tbody tr").first.locator(".label-danger")).to_have_text("Urgent")
    screenshot(officer, "case-list.png")
    open_case_from_list(officer, reference)

    heading = officer.locator("h1")
    expect(heading).to_contain_text(reference)
    expect(heading).to_contain_text("reported")
    expect(heading).to_contain_text("Urgent")
    expect(officer.locator("blockquote.verbatim")).to_have_text(description)
    expect(officer.locator(".attachment-list")).to_contain_text("photo.png")
    expect(officer.locator(".indicator-list")).to_contain_text("Withdrawn")
    expect(officer.locator(".indicator-list")).to_contain_text("Change in social circles")

    acknowledgement = "Spoke to the tutor; gathering more information before deciding."
    take_decision(officer, "acknowledge", acknowledgement)
    expect(heading).to_contain_text("under review")
    entry = officer.locator("#chronology li", has_text=acknowledgement)
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("Acknowledge")
    expect(entry).to_contain_text("reported → under review")
    screenshot(officer, "case-page.png")

    closing = "No radicalisation concern: a falling-out between friends, handled by the tutor."
    take_decision(officer, "close", closing, outcome="no_further_action")
    expect(heading).to_contain_text("closed")
    expect(officer.get_by_text("Closed: no further action")).to_be_visible()
    expect(officer.locator("#chronology li", has_text=closing)).to_contain_text("under review → closed")
    expect(officer.get_by_text("No decision is open to you in this state.")).to_be_visible()

    # The reporter sees the outcome as a status only, never the officers' reasons.
    staff.goto("/concerns/mine")
    staff.get_by_role("link", name=reference, exact=True).click()
    expect(staff.locator(".reporter-view")).to_contain_text("Closed")
    expect(staff.locator("body")).not_to_contain_text(closing)


def test_the_lead_walks_the_dashboard_a_case_review_and_the_board_report(sign_in, app):
    from app.cases import use_cases as cases
    from app.extensions import db
    from tests.conftest import make_case, user

    with app.app_context():
        case_id = make_case("staff", state="referred_to_police")
        reference = cases.get_case(db.session, user("lead"), case_id).case.reference
    lead = sign_in("lead")
    lead.get_by_role("button", name="Reports").click()  # the Lead's reports are a group in the menu
    lead.get_by_role("link", name="Oversight").click()
    expect(lead.get_by_role("heading", name="Oversight")).to_be_visible()
    expect(lead.locator("#awaiting-police")).to_contain_text("Awaiting a police outcome")
    screenshot(lead, "oversight.png")
    lead.goto(f"/cases/{case_id}")  # the panels show the oldest few: other tests' cases may come first
    expect(lead.get_by_role("heading", name=re.compile(reference))).to_be_visible()
    lead.get_by_role("link", name="Review side by side").click()
    expect(lead.locator("#audit-trail")).to_contain_text("refer_to_police")
    lead.get_by_label("Kind").select_option("refer_to_police")
    lead.get_by_role("button", name="Filter").click()
    expect(lead.locator("#audit-trail")).not_to_contain_text("raise_concern")
    expect(lead.locator("#chronology")).to_contain_text("Nothing matches.")
    lead.get_by_role("button", name="Reports").click()
    lead.get_by_role("link", name="Board report").click()
    expect(lead.get_by_role("heading", name=re.compile("Programme Board report"))).to_be_visible()
    expect(lead.locator("#home-office-1")).to_contain_text("Islamist")
    expect(lead.locator("img.chart")).to_be_visible()
    screenshot(lead, "board-report.png")
