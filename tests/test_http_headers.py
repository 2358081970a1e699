"""Security headers on every response, signed-in pages never cacheable, cookie flags; the CSP checked in a browser."""
from __future__ import annotations

import os
import re
import threading

import pytest
from flask import Flask
from werkzeug.routing.converters import NumberConverter

from tests.conftest import PASSWORD, complete_second_step, csrf_token, make_case, sign_in_browser, sign_out


def get_routes(app, case_id: int) -> list[str]:
    """Every GET route, its arguments filled in: ids with a real case's id, other values with something plausible."""
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            if rule.endpoint.endswith("static"):
                values[name] = "prevent.js" if rule.endpoint == "static" else "js/ab.js"
            elif isinstance(converter, NumberConverter):
                values[name] = case_id
            else:
                values[name] = "x"
        with app.test_request_context():
            from flask import url_for
            urls.add(url_for(rule.endpoint, **values))
    return sorted(urls)


def assert_security_headers(response, url: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";"))
    assert "unsafe-inline" not in csp, url
    assert directives.get("script-src", "").startswith("'self' 'nonce-"), url
    assert directives.get("frame-ancestors") == "'none'", url
    assert directives.get("object-src") == "'none'", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("Referrer-Policy") == "same-origin", url


def assert_not_cacheable(response, url: str) -> None:
    assert response.headers.get("Cache-Control") == "no-store", url
    assert "cookie" in {v.lower() for v in response.vary}, url


@pytest.mark.slow
def test_every_get_route_has_the_security_headers_and_signed_in_pages_are_never_cached(app, web, api):
    urls = get_routes(app, make_case())
    assert len(urls) > 40
    lead, anonymous = web("lead"), web(None)
    seen_codes = set()
    for url in urls:
        response = lead.get(url)
        seen_codes.add(response.status_code)
        assert_security_headers(response, url)
        if "/static/" not in url:
            assert_not_cacheable(response, url)
        assert "Strict-Transport-Security" not in response.headers, url

        response = anonymous.get(url)
        assert_security_headers(response, url)
        if (response.headers.get("Set-Cookie") or anonymous.get_cookie("session")) and "/static/" not in url:
            assert_not_cacheable(response, url)
    assert {200, 302, 404} <= seen_codes  # pages, redirects and refusals were all covered

    token = api("lead")
    for url in (u for u in urls if u.startswith("/api/")):
        response = token.get(url)
        assert_security_headers(response, url)
        assert_not_cacheable(response, url)

    response = sign_out(lead)  # last: it ends the session
    assert_security_headers(response, "/logout/")
    assert_not_cacheable(response, "/logout/")


@pytest.mark.parametrize("username, url", [("lead", "/cases/"), ("admin", "/users/list/")])
def test_pages_carry_a_fresh_nonce_that_every_script_carries(web, username, url):
    client = web(username)  # FAB's list widgets render their scripts outside Flask's template context
    nonces = []
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        html = response.get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_a_static_file_keeps_its_caching_but_has_the_security_headers(web):
    response = web("lead").get("/static/prevent.js")
    assert response.status_code == 200
    assert_security_headers(response, "/static/prevent.js")
    assert response.headers.get("Cache-Control") != "no-store"


def test_hsts_and_secure_cookies_over_https_only(app, ctx):
    secure = app.test_client()
    page = secure.get("/login/", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_not_cacheable(page, "/login/")  # it starts a session (the form's CSRF token)
    assert all("; Secure" in c for c in page.headers.getlist("Set-Cookie"))
    # Flask-WTF wants a same-origin Referer over HTTPS: the Referrer-Policy keeps sending it.
    response = secure.post("/login/", base_url="https://localhost", headers={"Referer": "https://localhost/login/"},
                           data={"username": "lead", "password": PASSWORD,
                                 "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("; Secure" in c and "; HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    complete_second_step(secure, "lead", base_url="https://localhost", headers={"Referer": "https://localhost/"})
    assert "Strict-Transport-Security" in secure.get("/cases/", base_url="https://localhost").headers

    plain = app.test_client()
    page = plain.get("/login/")
    assert "Strict-Transport-Security" not in page.headers
    cookies = page.headers.getlist("Set-Cookie")
    assert cookies and not any("; Secure" in c for c in cookies)
    assert all("; HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    # Not configured behind a proxy: a forged X-Forwarded-Proto changes nothing.
    forged = plain.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


@pytest.mark.parametrize("proxies, hsts", [(0, False), (1, True)])
def test_x_forwarded_proto_is_honoured_only_behind_a_configured_proxy(proxies, hsts):
    from app.kernel import http_headers

    small = Flask(__name__)
    small.config.update(SECRET_KEY="x", PROXY_FIX=proxies)
    small.add_url_rule("/", "index", lambda: "ok")
    http_headers.register(small)
    response = small.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert ("Strict-Transport-Security" in response.headers) is hsts
    assert_security_headers(response, "/")


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.commits  # the live server's threads connect to the database themselves
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's Chromium")
def test_no_page_breaks_the_policy_in_a_browser(app, ctx):
    """Signed in as the lead and as the admin, every page's scripts and styles run without a CSP violation."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    case_id = make_case(immediate_danger=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    pages = {
        "lead": ["/", "/concerns/new", "/concerns/mine", "/cases/", f"/cases/{case_id}", f"/cases/{case_id}/review",
                 "/reports/board", "/oversight/", "/oversight/access", "/my-email/", "/training/mine", "/two-step/"],
        "admin": ["/users/list/", "/users/show/1", "/users/edit/1", "/users/add", "/roles/list/", "/swagger/v1",
                  "/outbox/", "/training/staff/", "/training/import", "/training/compliance/", "/employers/",
                  "/coverage/", "/two-step/users/"],
    }
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for username, urls in pages.items():
                context = browser.new_context(base_url=base)
                page = context.new_page()
                violations = []
                # The handler runs only while this page is open, so it sees this pass's list.
                page.on("console", lambda m: violations.append(m.text)  # noqa: B023
                        if "Content Security Policy" in m.text else None)
                sign_in_browser(page, app, username)
                for url in urls:
                    # "load": every script and style has run by then (FAB's run at DOM ready). Waiting for
                    # "networkidle" as well once timed out in CI with nothing left to load.
                    page.goto(url, wait_until="load")
                    assert page.evaluate("typeof window.jQuery") == "function", url  # FAB's scripts ran
                    assert not violations, (url, violations)
                page.goto("/concerns/new")
                details = page.locator("#danger-details")
                assert details.is_hidden()  # prevent.js ran: the police questions wait for the tick
                page.locator("#immediate_danger").check()
                assert details.is_visible()
                assert not violations, violations
                context.close()
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
