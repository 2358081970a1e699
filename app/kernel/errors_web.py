"""Plain error pages and answers: no stack traces, SQL or internal names, ever."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import appbuilder, db
from app.kernel.errors import DomainError

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in.",
    403: "Your role does not give access to this page.",
    404: "There is nothing here, or nothing you have access to.",
    405: "That action is not available here.",
    409: "The record changed in the meantime.",
    413: "The upload is too large.",
    429: "Too many sign-in attempts. Wait a few minutes and try again.",  # sign-ins are what is rate limited
    500: "Something went wrong on our side. Nothing you sent was lost from the form; please try again.",
}


def is_api_request() -> bool:
    """The REST API answers in JSON; everything else is a page."""
    return request.path.startswith("/api/")


def _answer(code: int, message: str | None = None):
    message = message or MESSAGES.get(code, "Something went wrong.")
    if is_api_request():
        return jsonify(message=message), code
    # A request refused early (CSRF is checked before Flask-AppBuilder loads the user) still shows the menu.
    g.user = getattr(g, "user", None) or current_user
    return render_template("error.html", code=code, message=message, appbuilder=appbuilder,
                           base_template=appbuilder.base_template), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _answer(400, "The form expired or was sent from elsewhere. Go back, reload the page and try again.")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return _answer(exc.status_code, None if exc.status_code in (403, 404) else str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # A rate limit other than the sign-ins' says its own words (Flask-Limiter's `error_message`).
        own = exc.description if isinstance(exc, RateLimitExceeded) and exc.limit.error_message else None
        response = make_response(_answer(exc.code or 500, own))
        # Keep the headers that go with the status, such as Allow on a 405 (RFC 9110).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("Unhandled error on %s", request.path)
        db.session.rollback()
        return _answer(500)
