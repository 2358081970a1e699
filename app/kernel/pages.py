"""What every area's pages share: the home page, reading a posted form into a use case's payload and
showing it again on a refusal, downloads, and reference-data lists that retire rather than delete."""
from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from flask import flash, g, redirect, request, send_file, url_for
from flask_appbuilder import IndexView, expose, has_access
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SelectField
from wtforms.validators import DataRequired

from app.extensions import db
from app.kernel import page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.security import can
from app.models import StoredFile

PAGE_SIZE = 25


def form_payload(*list_fields: str) -> dict[str, Any]:
    """The posted form as the services' payload: nested `subject.x` fields, lists for multi-value fields."""
    payload: dict[str, Any] = {}
    for key in request.form:
        if key in ("csrf_token", "draft_token"):  # the draft's token is app/drafts' (it keeps what was typed)
            continue
        if key in list_fields:
            payload[key] = request.form.getlist(key)
        elif key.startswith("subject."):
            payload.setdefault("subject", {})[key.split(".", 1)[1]] = request.form[key]
        else:
            payload[key] = request.form[key]
    return payload


def submit(call, form_name: str, render, success: str, done_url: str, *list_fields: str,
           words: Mapping[str, page_forms.Words] | None = None, dates: tuple[str, ...] = ()):
    """Runs one service with the posted form (its dates joined or read in UK order: `dates` names the single date
    boxes). On a refusal, `render(draft=, errors=, message=, status_code=)` shows the page again with what was typed
    (`draft["form"]` says which of its forms) and the errors in the form's own `words`; else on to `done_url`."""
    typed = form_payload(*list_fields)
    payload, problems = page_forms.for_use_case(typed, dates)
    try:
        call(payload)
    except InvalidData as exc:
        return render(draft={"form": form_name, **typed}, errors=page_forms.specific(exc.errors, words or {}, problems),
                      message="Some fields need attention: nothing was saved yet.", status_code=422)
    except Conflict as exc:
        return render(draft={"form": form_name, **typed}, message=str(exc), status_code=409)
    if success:  # the case page says what happened beside the form instead (app/cases/features.py)
        flash(success, "success")
    return redirect(done_url)


def file_download(stored: StoredFile):
    """A kept file as a download: never shown inline, never sniffed into another type, never cached."""
    response = send_file(io.BytesIO(stored.data), mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


class HomeView(IndexView):
    index_template = "home.html"

    @expose("/")
    def index(self):
        """FAB's home page, with the buttons this user may use; officers' and the Lead's is "My work"."""
        self.update_redirect()
        user = g.user
        if can(user, "can_read_all"):
            return redirect(url_for("MyWorkView.index"))
        return self.render_template(self.index_template, appbuilder=self.appbuilder, may={
            "raise_concern": can(user, "can_raise"), "see_own_concerns": can(user, "can_read_own"),
            "see_cases": can(user, "can_read_all"), "see_employers": can(user, "can_read", "Employer"),
            "record_training": can(user, "can_record", "Training")})


class ReferenceDataInterface(SQLAInterface):
    """FAB's model interface with two mends: a failed save is said plainly (FAB flashes the database's own error,
    SQL and parameters included), and a checkbox may be left unticked (FAB requires every non-null column)."""

    SAVE_FAILED = "That could not be saved. An entry with the same name may exist already."

    def is_nullable(self, col_name: str) -> bool:
        return self.is_boolean(col_name) or super().is_nullable(col_name)

    def add(self, item, commit: bool = True) -> None:
        self._plainly(super().add, item, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._plainly(super().edit, item, commit)

    def delete(self, item, commit: bool = True) -> None:
        self._plainly(super().delete, item, commit)

    def _plainly(self, save, item, commit: bool) -> None:
        try:
            save(item, commit)
        except (SQLAlchemyError, DatabaseException):
            raise DatabaseException(self.SAVE_FAILED) from None


def enum_select(enum_cls, label: str) -> SelectField:
    """A required choice of an enum's values. (FAB's own field for enum columns crashes, 500, when none is chosen.)"""
    return SelectField(label, choices=[(member.value, member.value.replace("_", " ").capitalize())
                                       for member in enum_cls], coerce=enum_cls,
                       validators=[DataRequired(message="Choose one.")], widget=Select2Widget())


def uploaded(name: str):
    """The file posted as `name`, or None when none was chosen (a browser then sends an empty part)."""
    upload = request.files.get(name)
    return upload if upload is not None and upload.filename else None


def back_to(default: str) -> str:
    """Where a form asks to return to (`next`): a page of this app only, never another site."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else default


class KeptList:
    """The Prevent Lead's forms for a list they keep (the directory's contacts, the subcontractors): add, change
    (a stale form refused, nothing typed lost), retire and put back, each through the area's use cases. A view mixes
    it in beside BaseView and says what it keeps: the use cases, the form's words, how a record fills its form, the
    form's template and the words of each outcome."""

    words: Mapping[str, page_forms.Words]
    form_template: str
    record_name: str  # the template's name for the record being changed
    updated: str  # the flash after a change
    retired: str  # "{name}" is the record's name
    restored: str = "{name} is back in use."

    def get_record(self, session, actor, pk: int) -> Any: ...
    def add_record(self, actor, payload: dict) -> Any: ...
    def update_record(self, actor, pk: int, payload: dict) -> Any: ...
    def set_in_use(self, actor, pk: int, in_use: bool) -> Any: ...
    def values(self, record: Any) -> dict[str, Any]: ...
    def added(self, record: Any) -> str: ...

    def _index(self) -> Any:
        return redirect(url_for(f"{type(self).__name__}.index"))

    def _render_form(self, record: Any, values: dict, errors: dict, message: str | None = None,
                     status_code: int | None = None):
        return self.render_template(  # type: ignore[attr-defined]
            self.form_template, values=values, errors=errors, message=message,
            **{self.record_name: record}, **self.form_context()), status_code or (422 if errors else 200)

    def form_context(self) -> dict[str, Any]:
        return {}

    def _save(self, record: Any, save) -> Any:
        payload = form_payload()
        try:
            saved = save(payload)
        except InvalidData as exc:
            return self._render_form(record, payload, page_forms.specific(exc.errors, self.words))
        except Conflict as exc:
            return self._render_form(record, payload, {}, str(exc), 409)
        flash(self.added(saved) if record is None else self.updated, "success")
        return self._index()

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._render_form(None, {}, {})
        return self._save(None, lambda payload: self.add_record(g.user, payload))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        record = self.get_record(db.session, g.user, pk)
        if request.method == "GET":
            return self._render_form(record, self.values(record), {})
        return self._save(record, lambda payload: self.update_record(g.user, pk, payload))

    def _in_use(self, pk: int, in_use: bool, done: str):
        try:
            record = self.set_in_use(g.user, pk, in_use)
        except Conflict as exc:
            flash(str(exc), "warning")
        else:
            flash(done.format(name=record.name), "success")
        return self._index()

    @expose("/<int:pk>/retire", methods=["POST"])
    @has_access
    def retire(self, pk: int):
        return self._in_use(pk, False, self.retired)

    @expose("/<int:pk>/restore", methods=["POST"])
    @has_access
    def restore(self, pk: int):
        return self._in_use(pk, True, self.restored)
