"""Every page each role reaches, in Debian's Chromium: axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) finds no critical or
serious violation; each page has lang="en-GB", a title of its own, a skip link as the first Tab stop, one <main> and one
<h1>; nothing is wider than a 320 px viewport; every visible menu item is reached by Tab.

The pages are not listed by hand: the walk starts from the menu each role is shown, then follows one link of each
shape (/cases/<n>, /users/show/<n>, ...) from those pages, so a new page in the menu, or linked from one, is covered
without touching this file. axe-core comes from the npm registry at setup (package.json and package-lock.json pin it;
`make test` runs `npm ci`) and is injected from node_modules: nothing is fetched at run time.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browsers import CHROMIUM, chromium_browser, served
from tests.conftest import sign_in_browser

if not os.path.exists(CHROMIUM):
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)

from playwright.sync_api import Page  # noqa: E402

# The live server's threads are connections of their own, and the walks share signed-in pages and records made once:
# a database of the module's own (module_database), which every test here uses.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("test_accessibility"), pytest.mark.commits,
              pytest.mark.usefixtures("module_database")]

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ROLES = ["staff", "officer", "lead", "director", "governance", "admin"]
TITLE_SUFFIX = " – Prevent Casework"
# Links that are not pages: downloads, exports, sign-out, language switches, FAB's actions; the API description (for
# Admins) is Swagger UI's page, not ours.
NOT_PAGES = re.compile(r"/(logout|export|download|delete|action|attachments|certificate|lang|access-export|swagger|"
                       r"api)(/|$|\?)|\.(csv|pdf|json)$|^/back$")
MAX_PAGES_PER_ROLE = 60
# Pages no link leads to: the sign-out page (a GET shows its button) and the page for an address that is not one.
NOT_LINKED = {"staff": ["/logout/", "/no-such-page"]}


@pytest.fixture(scope="module")
def axe_script() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make node_modules` (npm ci; needs node and npm, e.g. "
                    "apt-get install npm). The accessibility checks never skip for want of it.")
    return str(AXE)


@pytest.fixture(scope="module")
def live_server(app, module_database):
    with served(app, "live-server-a11y") as address:
        yield address


@pytest.fixture(scope="module")
def chromium():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def records(app, module_database):
    """Something behind every kind of detail page: a case (with an action), a staff member, an employer."""
    from datetime import date, timedelta

    from app.cases import actions
    from app.employers import use_cases as employers
    from app.extensions import db
    from tests.conftest import make_case, user

    with app.app_context():
        # Urgent, with an overdue action: the labels people most need to read ("Urgent", "Overdue").
        case_id = make_case("staff", state="referred_to_police", immediate_danger=True, police_called=True,
                            police_incident_number="INC-1")
        actions.add_action(user("officer"), case_id, {"title": "Speak to the tutor", "owner_id": user("officer").id,
                                                      "due_date": (date.today() - timedelta(days=3)).isoformat()})
        employers.create_employer(user("director"), {
            "name": "Accessible Employer Ltd", "sector": "Construction", "address": "1 Test Street, Bristol",
            "contact_name": "Pat Contact", "contact_email": "prevent-a11y@employer.example",
            "contact_phone": "0117 000 0099"})
        db.session.remove()
    return case_id


@pytest.fixture(scope="module")
def signed_in(app, module_database, chromium, live_server):
    """signed_in(role): one signed-in page per role for the module (signing in takes seconds)."""
    pages: dict[str, Page] = {}

    def get(role: str) -> Page:
        if role not in pages:
            pages[role] = _page_at(chromium, live_server, app, role)
        return pages[role]

    yield get
    for page in pages.values():
        page.context.close()


@pytest.fixture(scope="module")
def checked_contents() -> set[int]:
    """The content (what is inside <main>) of every page axe-core has checked: a page another role has open with the
    same content is not checked again (its menu is checked on each role's own pages)."""
    return set()


def _shape(path: str) -> str:
    """Pages of one shape are one template: /cases/1 and /cases/2; Flask-AppBuilder's generic lists and forms of
    reference data (/indicatorview/list/, /concerntypeview/list/) are one template too."""
    return re.sub(r"^/\w+view/(list|show|add|edit)\b", r"/MODELVIEW/\1", re.sub(r"\d+", "N", path))


def _page_at(chromium, live_server, app, username: str | None, width: int = 1280) -> Page:
    context = chromium.new_context(base_url=live_server, viewport={"width": width, "height": 900},
                                  bypass_csp=True)  # axe-core is injected as a script of its own
    context.set_default_timeout(10_000)
    page = context.new_page()
    if username:
        sign_in_browser(page, app, username)
    return page


def _menu_links(page: Page) -> list[str]:
    return page.eval_on_selector_all("header nav a[href]", "els => els.map(e => e.getAttribute('href'))")


def _same_site_paths(page: Page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
    origin = urlsplit(page.url)
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc != origin.netloc or parts.scheme not in ("http", "https"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not NOT_PAGES.search(parts.path):
            paths.append(path)
    return paths


def _axe(page: Page, axe_script: str) -> list[str]:
    page.add_script_tag(path=axe_script)
    return page.evaluate("""async tags => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious').map(v =>
            `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}x, e.g. ${v.nodes[0].target.join(' ')})`);
    }""", AXE_TAGS)


def _check_page(page: Page, axe_script: str, checked: set[int] | None = None) -> list[str]:
    """What is wrong with the page now open: axe-core's critical and serious findings and the house structure."""
    problems = []
    content = hash(page.evaluate("""() => { const m = document.querySelector('main');
        return m ? m.innerHTML.replace(/<input[^>]*name="csrf_token"[^>]*>/g, '') : document.body.innerHTML; }"""))
    if checked is None or content not in checked:
        problems += _axe(page, axe_script)
        if checked is not None:
            checked.add(content)
    structure = page.evaluate("""() => ({
        lang: document.documentElement.getAttribute('lang'),
        title: document.title,
        mains: document.querySelectorAll('main').length,
        h1s: document.querySelectorAll('h1').length,
    })""")
    if structure["lang"] != "en-GB":
        problems.append(f"lang is {structure['lang']!r}")
    if not structure["title"].endswith(TITLE_SUFFIX) or structure["title"] == TITLE_SUFFIX.lstrip(" –"):
        problems.append(f"title {structure['title']!r} does not name the page")
    if structure["mains"] != 1:
        problems.append(f"{structure['mains']} <main> elements")
    if structure["h1s"] != 1:
        problems.append(f"{structure['h1s']} <h1> elements")
    page.locator("body").focus()
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.keyboard.press("Tab")
    first = page.evaluate("() => { const e = document.activeElement; "
                          "return e ? [e.tagName, e.getAttribute('href'), e.textContent.trim()] : null }")
    if not first or first[0] != "A" or first[1] != "#main-content":
        problems.append(f"the first Tab stop is {first}, not the skip link")
    return problems


def _check_reflow(page: Page) -> list[str]:
    page.set_viewport_size({"width": 320, "height": 900})
    try:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 320:
            wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > 321 && getComputedStyle(e).position !== 'fixed')
                .slice(-3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : ''))""")
            return [f"{width} px wide at 320 px ({', '.join(wide)})"]
        return []
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _walk(page: Page, axe_script: str, checked: set[int], extra: list[str]) -> dict[str, list[str]]:
    """Every page of the menu and one of each shape linked from them, and so on: {path: problems}."""
    page.goto("/")
    to_visit = ["/"] + [p for p in _menu_links(page) if p and p != "#" and not NOT_PAGES.search(p)] + extra
    seen_shapes: set[str] = set()
    found: dict[str, list[str]] = {}
    titles: dict[str, tuple[str, str]] = {}  # title: (the path asked for, the path it landed on)
    while to_visit and len(found) < MAX_PAGES_PER_ROLE:
        path = to_visit.pop(0)
        if _shape(path.split("?")[0]) in seen_shapes:
            continue
        seen_shapes.add(_shape(path.split("?")[0]))
        response = page.goto(path)
        assert response is not None
        if response.status >= 400 and path not in extra:
            found[path] = [f"HTTP {response.status}"]
            continue
        landed = urlsplit(page.url).path  # "/" takes officers and the Lead on to "My work": one page, one title
        found[path] = _check_page(page, axe_script, checked) + _check_reflow(page)
        title = page.title()
        if title in titles and titles[title][1] != landed:
            found[path].append(f"the same title as {titles[title][0]}: {title!r}")
        titles[title] = (path, landed)
        to_visit += [p for p in _same_site_paths(page, "main a[href]") if _shape(p.split("?")[0]) not in seen_shapes]
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}:\n  " + "\n  ".join(problems) for path, problems in found.items() if problems)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_the_role_reaches_is_accessible_and_reflows(role, signed_in, axe_script, records, checked_contents):
    found = _walk(signed_in(role), axe_script, checked_contents, NOT_LINKED.get(role, []))
    assert len(found) >= 3, found
    assert not any(found.values()), f"{role}: {sum(map(bool, found.values()))} of {len(found)} pages:\n{_report(found)}"


def test_the_sign_in_pages_are_accessible(app, chromium, live_server, axe_script):
    from tests.conftest import PASSWORD
    page = _page_at(chromium, live_server, app, None)
    try:
        found = {}
        # The employer's acknowledgement page is opened from an email, without an account (here with a spent link).
        for path in ("/", "/login/", "/employer-acknowledgement/no-such-link"):
            page.goto(path)
            found[path] = _check_page(page, axe_script) + _check_reflow(page)
        page.goto("/login/")
        page.get_by_label("Username").fill("officer")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/two-step/**")
        found["two-step verify"] = _check_page(page, axe_script) + _check_reflow(page)
    finally:
        page.context.close()
    assert not any(found.values()), _report(found)


def _tab_through_menu(page: Page) -> set[str]:
    """Presses Tab from the top of the page until focus reaches the page's content, opening each group of the menu
    with Enter on the way: the links and buttons reached, as their href (or the button's text)."""
    reached: set[str] = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            const style = getComputedStyle(e);
            return {tag: e.tagName, href: e.getAttribute('href'), text: e.textContent.trim(),
                    ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                    group: e.matches('header nav .dropdown-toggle') && e.getAttribute('aria-expanded') !== 'true',
                    inHeader: !!e.closest('header')}; }""")
        if not focused["inHeader"] and focused["href"] != "#main-content":
            break
        reached.add(focused["href"] or focused["text"])
        assert focused["ring"], f"no visible focus on {focused['href'] or focused['text']}"
        if focused["group"]:
            page.keyboard.press("Enter")
    return reached


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_item_is_reached_by_tab(role, signed_in):
    page = signed_in(role)
    page.goto("/")
    items = set(page.eval_on_selector_all("header nav a[href]", "els => els.map(e => e.getAttribute('href'))"))
    reached = _tab_through_menu(page)
    lead_menu_rows = page.eval_on_selector_all("header nav .navbar-nav > li",
                                               "els => new Set(els.map(e => e.offsetTop)).size")
    assert "#main-content" in reached  # the skip link first
    assert items - reached == set(), f"not reached by Tab: {sorted(items - reached)}"
    assert "Sign out" in reached
    assert lead_menu_rows == 1, f"the menu takes {lead_menu_rows} rows at 1280 px"
