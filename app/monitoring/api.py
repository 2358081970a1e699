"""The monitoring API: alerts in from web filtering and monitoring systems (a source's key, not a user's sign-in), and
the alerts listed for officers and the Prevent Lead."""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, current_app, g, request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from app.extensions import appbuilder, db
from app.kernel.rest import BadQuery, PreventApi, answers, answers_plainly, json_body, page_args, rison_arg, takes
from app.monitoring import use_cases as monitoring
from app.monitoring.models import AlertState
from app.monitoring.presenters import alert_json
from app.monitoring.schemas import ALERT, DISMISS, RAISE_FROM_ALERT

SECURITY_SCHEME = "monitoring_source_key"
RECEIVE_ENDPOINT = "MonitoringApi.receive_alert"


class MonitoringApi(PreventApi):
    resource_name = "monitoring"
    class_permission_name = "MonitoringAlert"
    openapi_spec_tag = "Monitoring"
    method_permission_name = {"list_alerts": "read", "get_alert": "read", "dismiss_alert": "triage",
                              "raise_concern": "triage"}

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        api_spec.components.security_scheme(SECURITY_SCHEME, {
            "type": "apiKey", "in": "header", "name": monitoring.KEY_HEADER,
            "description": "The key of a monitoring source, shown once when the Admin added it."})

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs) -> None:
        super().operation_helper(path=path, operations=operations, methods=methods, func=func, **kwargs)
        if func is not None and func.__name__ == "receive_alert" and operations and "post" in operations:
            operation = operations["post"]
            operation["security"] = [{SECURITY_SCHEME: []}]
            operation["responses"]["401"]["description"] = "no key, an unknown key or a revoked one"
            operation["responses"].pop("403", None)  # a key either works or does not: there is no role to lack

    @expose("/alert", methods=["POST"])
    @takes(ALERT)
    @answers_plainly  # idempotent by the source's own id for the alert; no user to keep an Idempotency-Key for
    def receive_alert(self):
        """An alert from a web filtering or monitoring system, with its source's key (no sign-in).
        ---
        post:
          summary: "Send an alert (source_id: the source's own id for it; severity low, medium or high). The same
            source_id again from the same source is the same alert: 200 with the alert stored the first time"
          responses:
            201: {description: the alert, stored}
            200: {description: "the alert stored before under this source_id"}
            422: {description: missing or invalid fields; nothing stored}
            429: {description: too many alerts from this key in a short time}
        """
        alert, created = monitoring.receive_alert(request.headers.get(monitoring.KEY_HEADER), json_body())
        return self.response(201 if created else 200, id=alert.id, result=alert_json(alert, full=False))

    @expose("/alert/", methods=["GET"])
    @protect()
    @answers
    def list_alerts(self):
        """Monitoring alerts, newest first (officers and the Prevent Lead).
        ---
        get:
          summary: "List alerts; rison q (awaiting: true for those awaiting triage only, page, page_size)"
          responses:
            200: {description: "count, ids and result"}
            400: {description: malformed q}
        """
        q = rison_arg()
        page, page_size = page_args(q)
        awaiting = q.get("awaiting", False)
        if not isinstance(awaiting, bool):
            raise BadQuery("awaiting is true or false.")
        count, rows = monitoring.list_alerts(db.session, g.user, state=AlertState.awaiting_triage if awaiting else None,
                                             page=page, page_size=page_size)
        return self.response(200, count=count, ids=[a.id for a in rows], result=[alert_json(a) for a in rows])

    @expose("/alert/<int:pk>", methods=["GET"])
    @protect()
    @answers
    def get_alert(self, pk: int):
        """One alert, with its triage (officers and the Prevent Lead).
        ---
        get:
          summary: One alert
          responses:
            200: {description: the alert}
        """
        return self.response(200, id=pk, result=alert_json(monitoring.get_alert(db.session, g.user, pk)))

    @expose("/alert/<int:pk>/dismiss", methods=["POST"])
    @protect()
    @takes(DISMISS)
    @answers
    def dismiss_alert(self, pk: int):
        """Dismiss an alert awaiting triage, with the reason no concern is needed.
        ---
        post:
          summary: Dismiss an alert (reason); 409 if it was triaged already
          responses:
            200: {description: the alert, dismissed}
        """
        alert = monitoring.dismiss(g.user, pk, json_body())
        return self.response(200, id=alert.id, result=alert_json(alert))

    @expose("/alert/<int:pk>/concern", methods=["POST"])
    @protect()
    @takes(RAISE_FROM_ALERT)
    @answers
    def raise_concern(self, pk: int):
        """Raise a concern from an alert awaiting triage: about a person already recorded (subject_id) or a new one
        (subject); the concern quotes the alert, and its chronology says it was raised from it.
        ---
        post:
          summary: "Raise a concern from an alert (subject_id or subject, note?); 409 if it was triaged already"
          responses:
            201: {description: "case_id: the concern raised; result: the alert, linked to it"}
        """
        case = monitoring.raise_concern_from(g.user, pk, json_body())
        alert = monitoring.get_alert(db.session, g.user, pk)
        return self.response(201, id=alert.id, case_id=case.id, reference=case.reference, result=alert_json(alert))


def _key_bucket() -> str:
    """Each key is limited on its own (its hash names the bucket: the key itself is kept nowhere); no key at all
    shares one bucket per address."""
    key = request.headers.get(monitoring.KEY_HEADER) or ""
    if not key:
        return f"monitoring-nokey:{request.remote_addr}"
    return "monitoring-key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def register(app: Flask) -> None:
    """The rate limit on alerts in, per key (MONITORING_RATE_LIMIT, read at each request): Flask-Limiter, FAB's
    instance, the same storage as the sign-in limits."""
    limiter = appbuilder.sm.limiter
    view: Any = app.view_functions[RECEIVE_ENDPOINT]
    limited = limiter.limit(lambda: current_app.config["MONITORING_RATE_LIMIT"], key_func=_key_bucket,
                            methods=["POST"], error_message="Too many alerts from this key: slow down.")
    app.view_functions[RECEIVE_ENDPOINT] = limited(view)
