"""Security headers on every response, and the cookies' flags.

A plain `after_request` hook rather than flask-talisman: we need FAB's own nonce hook (its templates call `csp_nonce()`
when the name is defined), a style-src with hashes for FAB's few fixed style attributes, and "signed in" as this app
means it; that is less code here than configuring and pinning a library around it.
"""
from __future__ import annotations

import base64
import hashlib
import secrets

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

# The style attributes in FAB's own markup that our pages render (login box, list pagination, action forms, the
# required-field star, show/edit tabs, show widgets) and the one its filter script sets. Ours have none (prevent.css).
# Allowed by hash with 'unsafe-hashes': exactly these values, nothing else, and no <style> elements.
FAB_STYLE_ATTRIBUTES = (
    "", "display: none;", "display: none", "display:inherit;", "display: flex;", "color: red",
    "white-space: pre-line", "margin-top:50px;", "padding-top:30px", "width: 100%",
)
STATIC_ENDPOINTS = {"static", "appbuilder.static"}
HSTS = "max-age=31536000; includeSubDomains"


def _hash(value: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"


STYLE_HASHES = " ".join(_hash(value) for value in FAB_STYLE_ATTRIBUTES)


def csp_nonce() -> str:
    """This request's nonce; FAB's baselib.get_nonce() and our templates put it on every <script>."""
    if "csp_nonce" not in g:
        g.csp_nonce = base64.b64encode(secrets.token_bytes(18)).decode()
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'unsafe-hashes' {STYLE_HASHES}",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def _signed_in() -> bool:
    if request.cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session")):
        return True
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return True
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # no user loader context (a request refused very early): not known to be signed in
        return False


def set_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: Flask-WTF refuses a form POST over HTTPS that carries no same-origin Referer.
    headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    # Static files are the same for everyone and hold no personal data: they keep their own caching.
    if request.endpoint not in STATIC_ENDPOINTS and (_signed_in() or session.modified or "Set-Cookie" in headers):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        response.vary.add("Cookie")
        response.vary.add("Authorization")
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Secure cookies whenever served over HTTPS, whatever SESSION_COOKIE_SECURE says.

    save_session runs after every after_request hook, so it also sees the remember-me cookie that Flask-Login sets.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        if request.is_secure:
            cookies = response.headers.getlist("Set-Cookie")
            response.headers.setlist("Set-Cookie", [
                c if "; secure" in c.lower() else c + "; Secure" for c in cookies])


def register(app: Flask) -> None:
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies,
                                x_prefix=proxies)
    app.session_interface = SessionInterface()
    # A global, not a context processor: FAB renders its widgets (lists, forms) straight from the Jinja environment.
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_headers)
