"""What every area's API resources share: JSON in and out, malformed `q` refused, domain errors turned into
the contract's answers, Idempotency-Key on POSTs, and the OpenAPI description of bodies and errors."""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

import prison
from flask import request
from flask_appbuilder.api import BaseApi
from werkzeug.exceptions import BadRequest

from app.extensions import db
from app.kernel import idempotency
from app.kernel.errors import Conflict, DomainError, InvalidData
from app.kernel.errors_web import is_api_request
from app.kernel.schemas import ID, Body, openapi_body
from app.kernel.validation import ApiPayload, parse_int

log = logging.getLogger(__name__)


class BadQuery(Exception):
    pass


def json_body() -> Any:
    """The request's JSON; BadRequest (400) when it is not JSON at all. An object comes as an ApiPayload, which the
    services' forms parse strictly: a key they do not read is refused (422)."""
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest("The request body must be JSON.")
    return ApiPayload(payload) if isinstance(payload, dict) else payload


def _parse_rison(raw: str) -> dict:
    if len(raw) > 2000:
        raise BadQuery("The q argument is too long.")
    try:
        value = prison.loads(raw)
    except (Exception, RecursionError):
        raise BadQuery("The q argument is not valid rison.") from None
    if not isinstance(value, dict):
        raise BadQuery("The q argument must be a rison object, such as (page:0,page_size:25).")
    return value


def rison_arg() -> dict:
    """The rison `q` argument, parsed defensively: `q=((` and other malformed input get 400, never 500."""
    raw = request.args.get("q")
    return _parse_rison(raw) if raw else {}


def guard_rison_arguments(app) -> None:
    """Flask-AppBuilder's own APIs parse `q` too, and crash on `q=((`: refuse malformed `q` before any API runs."""

    @app.before_request
    def refuse_malformed_q():
        if is_api_request() and request.args.get("q"):
            try:
                _parse_rison(request.args["q"])
            except BadQuery as exc:
                return {"message": str(exc)}, 400
        return None


def answers(view: Callable) -> Callable:
    """Turns domain errors into the contract's answers; anything unexpected is logged and answered plainly. A POST
    with an Idempotency-Key takes effect once: the same request again gets the first answer
    (app/kernel/idempotency.py)."""

    @functools.wraps(view)
    def wrapped(self: BaseApi, *args, **kwargs):
        def work():
            return _answer(self, lambda: view(self, *args, **kwargs))

        key = request.headers.get(idempotency.HEADER)
        if request.method != "POST" or key is None:
            return work()
        return _answer(self, lambda: _idempotent(key, work))

    wrapped.takes_idempotency_key = True  # for the OpenAPI document (on its POSTs)
    return wrapped


def answers_plainly(view: Callable) -> Callable:
    """`answers` without the Idempotency-Key (the header is ignored): for an endpoint called with no sign-in (the
    keys are kept per user) that is idempotent by a key of its own (monitoring alerts, by their source's id)."""

    @functools.wraps(view)
    def wrapped(self: BaseApi, *args, **kwargs):
        return _answer(self, lambda: view(self, *args, **kwargs))

    wrapped.idempotent_by_its_own_key = True  # the house rule on Idempotency-Key knows it (tests/test_idempotency.py)
    return wrapped


def _idempotent(key: str, work: Callable):
    if not 0 < len(key) <= idempotency.KEY_MAX or not key.isprintable():
        raise BadRequest(f"The {idempotency.HEADER} header must be 1 to {idempotency.KEY_MAX} printable characters.")
    response, repeated = idempotency.once(key, work, fingerprint=idempotency.request_fingerprint())
    if repeated:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _answer(api: BaseApi, call: Callable):
    try:
        return call()
    except InvalidData as exc:
        return api.response(422, message=exc.errors)
    except Conflict as exc:
        return api.response(409, message=str(exc), status=exc.status)
    except DomainError as exc:
        return api.response(exc.status_code, message=str(exc))
    except (BadRequest, BadQuery) as exc:
        return api.response(400, message=getattr(exc, "description", None) or str(exc))
    except Exception:
        log.exception("API error")
        db.session.rollback()
        return api.response(500, message="Something went wrong on our side. Nothing was changed.")


def takes(schema: Body) -> Callable:
    """Declares the body an endpoint takes: the schema its use case validates the body with. The OpenAPI document
    shows the JSON Schema made from it (`openapi_body`), so the two cannot differ."""
    def mark(view: Callable) -> Callable:
        view.request_schema = schema
        return view
    return mark


MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}


CONFLICT = {"type": "object", "required": ["message"],
            "properties": {"message": {"type": "string"}, "status": {"type": "string", "nullable": True}}}


FIELD_ERRORS = {"type": "object", "required": ["message"], "properties": {"message": {
    "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}


ERRORS = {
    "400": ("malformed JSON or q", MESSAGE), "401": ("not signed in, or a bad token", MESSAGE),
    "403": ("the role may not do this", MESSAGE), "404": ("no such record, or not one this user may see", MESSAGE),
    "409": ("the record's state or version does not allow this", CONFLICT),
    "422": ("missing, invalid, unknown or protected fields", FIELD_ERRORS),
}


def describe(operation: dict[str, Any], method: str, path: str, view: Callable) -> None:
    """Completes an operation's description with what every endpoint does alike: its path parameters (FAB leaves
    a custom route's out), its JSON body, JSON answers, and the error answers that the contract gives."""
    names = re.findall(r"{(\w+)}", path)
    declared = {p.get("name") for p in operation.setdefault("parameters", []) if isinstance(p, dict)}
    operation["parameters"] += [{"name": name, "in": "path", "required": True, "schema": ID}
                                for name in names if name not in declared]
    if method == "post" and getattr(view, "takes_idempotency_key", False):
        operation["parameters"].append({"name": idempotency.HEADER, "in": "header", "required": False,
                                        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX},
                                        "description": "The same key again gets the first answer, and does nothing."})
    if not operation["parameters"]:
        del operation["parameters"]
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if str(status).startswith("2"):
            response.setdefault("content", {"application/json": {"schema": {"type": "object"}}})
    writes = method in ("post", "put", "delete")
    schema = getattr(view, "request_schema", None)
    if schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": openapi_body(schema)}}}
    wanted = {"400", "401", "403"} | ({"404"} if names else set()) | ({"409", "422"} if writes else set())
    for status in wanted | {str(s) for s in responses if str(s) in ERRORS}:
        description, error_schema = ERRORS[status]
        response = responses.pop(status, None) or responses.pop(int(status), None) or {"description": description}
        response["content"] = {"application/json": {"schema": error_schema}}
        responses[status] = response


class PreventApi(BaseApi):
    # Tokens only: a browser cookie must not authorise API writes, which are exempt from CSRF checks.
    allow_browser_login = False
    class_permission_name = "Case"

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs) -> None:
        super().operation_helper(path=path, operations=operations, methods=methods, func=func, **kwargs)
        for method in methods or ():
            if method.lower() in operations:
                describe(operations[method.lower()], method.lower(), path, func)


def page_args(q: dict) -> tuple[int, int]:
    """`page` (0 or more) and `page_size` (1 to 100, default 25) from a rison q."""
    try:
        page = parse_int(q.get("page", 0))
        page_size = parse_int(q.get("page_size", 25))
    except ValueError:
        raise BadQuery("page and page_size must be whole numbers.") from None
    if page < 0 or not 1 <= page_size <= 100:
        raise BadQuery("page must be 0 or more and page_size between 1 and 100.")
    return page, page_size
