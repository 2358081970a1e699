"""Email pages: each person's delivery preference, and the outbox for those who watch delivery."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel import audit
from app.kernel.errors import Conflict
from app.notifications import notify, outbox, preferences


class MyEmailView(BaseView):
    """What email this person receives, and whether non-urgent email comes as one daily digest."""

    route_base = "/my-email"
    class_permission_name = "Notifications"
    method_permission_name = {"show": "read", "update": "edit"}
    default_view = "show"

    @expose("/")
    @has_access
    def show(self):
        return self.render_template("my_email.html", receives=notify.what_user_receives(g.user),
                                    recent=outbox.sent_to(db.session, g.user),
                                    daily_digest=outbox.wants_digest(db.session, g.user))

    @expose("/", methods=["POST"])
    @has_access
    def update(self):
        chosen = preferences.set_daily_digest(g.user, {"daily_digest": request.form.get("daily_digest", "no")})
        flash("Non-urgent email will come as one daily digest." if chosen else "Email will come as it happens.",
              "success")
        return redirect(url_for("MyEmailView.show"))


class OutboxView(BaseView):
    """The Admin's view of email delivery: what failed (with its error, and a retry) and what went lately."""

    route_base = "/outbox"
    class_permission_name = "Outbox"
    method_permission_name = {"index": "read", "retry": "retry"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        failed, recent = outbox.failed_and_recent(db.session, g.user)
        return self.render_template("outbox.html", failed=failed, recent=recent,
                                    audit_head_problem=audit.head_file_problem(db.session))

    @expose("/<int:pk>/retry", methods=["POST"])
    @has_access
    def retry(self, pk: int):
        try:
            outbox.retry(g.user, pk)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash("The email is queued again.", "success")
        return redirect(url_for("OutboxView.index"))
