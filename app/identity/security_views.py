"""Flask-AppBuilder's user, role and permission pages, with our rules: set as the security manager's views in
app/kernel/security.py. Each keeps the name of FAB's class, so that its endpoints and permissions keep theirs.

Users are saved through app/identity/accounts.py (separation of duties, audit with a reason, the Lead told); they are
deactivated, never deleted (their name stays on what they did). FAB's generic action routes answer a name they do
not know, or a row that is not there, with 404 instead of a crash.

The services are imported where used: app.identity.accounts imports app.kernel.security, which imports this module.
"""
from __future__ import annotations

from flask import abort, flash, g, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security import views as fab
from flask_appbuilder.security.forms import ResetPasswordForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.kernel.errors import DomainError


def reason_field() -> StringField:
    return StringField("Reason for this change", validators=[DataRequired(), Length(max=500)],
                       widget=BS3TextFieldWidget(),
                       description="Why: it goes in the audit trail, and the Prevent Lead is told of the change.")


class KnownActionsOnly:
    """FAB's action routes, answering 404 for an action the view does not have (FAB crashed on `muldelete`, say), for
    a bulk action on a single row or the other way round, and for a row that is not there."""

    def _found(self, pk: str):
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk)) if str(pk).isdigit() else None
        if item is None:
            abort(404)
        return item

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if name not in self.actions or not self.actions[name].single:
            abort(404)
        self._found(pk)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions or not self.actions[name].multiple:
            abort(404)
        for pk in request.form.getlist("rowid"):
            self._found(pk)
        return super().action_post()


class UserDBModelView(KnownActionsOnly, fab.UserDBModelView):
    """Users: every save needs a reason and goes through the accounts service. No groups: roles say what people may
    do (app/kernel/security.py)."""

    list_columns = [c for c in fab.UserDBModelView.list_columns if c != "groups"]
    search_columns = [c for c in fab.UserDBModelView.search_columns if c != "groups"]
    add_columns = [c for c in fab.UserDBModelView.add_columns if c != "groups"] + ["reason"]
    edit_columns = [c for c in fab.UserDBModelView.edit_columns if c != "groups"] + ["reason"]
    add_form_extra_fields = {**fab.UserDBModelView.add_form_extra_fields, "reason": reason_field()}
    edit_form_extra_fields = {"reason": reason_field()}
    validators_columns = {"roles": [DataRequired(message="Choose at least one role.")]}
    exclude_route_methods = {"delete"}

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        # FAB's form fills the user field by field, querying the roles in between: without this, a query would write
        # the first fields before the audit could see them change.
        with db.session.no_autoflush:
            return super().edit(pk)

    # FAB shows the message of an exception raised in these hooks, and writes nothing; so the hooks hand the form's
    # result to the service, which checks, saves, audits and commits it (FAB's own save after them has nothing left).
    def pre_add(self, item) -> None:
        super().pre_add(item)  # FAB hashes the password
        self._save(item, created=True)

    def pre_update(self, item) -> None:
        super().pre_update(item)
        self._save(item, created=False)

    @staticmethod
    def _save(item, created: bool) -> None:
        from app.identity import accounts
        for grant in accounts.save_user(g.user, item, getattr(item, "reason", None), created=created):
            flash(f"The {grant.role.name} role is not given yet: it needs a second person's approval (another Admin "
                  "or the Prevent Lead), under Security, Role grants.", "warning")


class ResetPasswordView(fab.ResetPasswordView):
    """An Admin's reset of someone's password, with the reason, through the accounts service."""

    class Form(ResetPasswordForm):
        reason = reason_field()

    form = Form

    def form_post(self, form) -> None:
        from app.identity import accounts
        try:
            accounts.set_password(g.user, request.args.get("pk", type=int), form.password.data, form.reason.data)
        except (DomainError, PasswordComplexityValidationError) as exc:
            flash(str(exc), "danger")
        else:
            flash("The password is changed. The Prevent Lead and the person are told.", "info")


class UserInfoEditView(fab.UserInfoEditView):
    """One's own name, audited through the accounts service."""

    def form_post(self, form) -> None:
        from app.identity import accounts
        accounts.edit_own_details(g.user, {"first_name": form.first_name.data, "last_name": form.last_name.data})
        flash(str(self.message), "info")


class RoleModelView(KnownActionsOnly, fab.RoleModelView):
    pass


class UserGroupModelView(KnownActionsOnly, fab.UserGroupModelView):
    pass


class PermissionModelView(KnownActionsOnly, fab.PermissionModelView):
    pass


class ViewMenuModelView(KnownActionsOnly, fab.ViewMenuModelView):
    pass


class PermissionViewModelView(KnownActionsOnly, fab.PermissionViewModelView):
    pass
