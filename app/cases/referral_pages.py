"""The referral form's pages (issue 13, point 1): officers and the Lead record the national Prevent referral form's
details of a case, reached from the case page, and download the form as a PDF. Each reads input, calls one use case,
renders."""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import current_app, g, redirect, request, send_file
from flask_appbuilder import BaseView, expose, has_access

from app.cases import features, referral_form
from app.cases import use_cases as cases
from app.cases.referral_form import PARENTS_CARERS_TOLD, SPECIAL_NEEDS
from app.extensions import db
from app.kernel import page_forms
from app.kernel.ages import age_on
from app.kernel.errors import Conflict, InvalidData, NotFound
from app.kernel.page_forms import Words
from app.kernel.pages import form_payload
from app.kernel.security import CaseAccess, can

ANCHOR = "referral-form"

# The form's words for the use case's messages, in the order of the page.
REFERRAL_WORDS = {
    "address": Words(), "postcode": Words(), "local_authority": Words(), "gender": Words(), "nationality": Words(),
    "education_employment": Words(),
    "special_needs": Words(other={"Choose one of: " + ", ".join(SPECIAL_NEEDS) + ".": "Choose yes, no or not known"}),
    "needs_vulnerabilities": Words(), "online_activity": Words(), "group_contacts": Words(),
    "threats_intentions": Words(), "family_context": Words(),
    "parents_carers_told": Words(other={"Choose one of: " + ", ".join(PARENTS_CARERS_TOLD) + ".":
                                        "Choose yes, no or not applicable"}),
    "other_agencies": Words(), "referrer_actions": Words(), "version": Words(),
}


class ReferralFormView(BaseView):
    """The referral form's details of a case, and the form as a PDF."""

    route_base = "/cases"
    class_permission_name = "Case"
    method_permission_name = {"edit": "transition", "pdf": "export"}
    default_view = "edit"

    def _render(self, pk: int, values: dict[str, Any], errors: dict[str, list[str]], *, opening: bool = False,
                message: str | None = None, status_code: int = 200):
        view = cases.read_case(g.user, pk, "page", what="referral_form") if opening \
            else cases.get_case(db.session, g.user, pk)
        if view.access is not CaseAccess.FULL:
            raise NotFound("case")
        case = view.case
        return self.render_template(
            "referral_form.html", case=case, values=values, errors=errors, message=message,
            age=age_on(case.subject.date_of_birth, date.today()),
            referrer=referral_form.referrer(g.user), special_needs=SPECIAL_NEEDS,
            parents_carers_told=PARENTS_CARERS_TOLD, contacts=current_app.config["SAFEGUARDING_CONTACTS"],
            may={"save": case.is_open, "download": can(g.user, "can_export")},
        ), status_code

    @expose("/<int:pk>/referral-form", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        if request.method == "GET":
            details = referral_form.details_of(db.session, pk)
            return self._render(pk, referral_form.form_values(details), {}, opening=True)
        typed = form_payload()
        try:
            referral_form.update_referral_form(g.user, pk, typed)
        except InvalidData as exc:
            return self._render(pk, typed, page_forms.specific(exc.errors, REFERRAL_WORDS),
                                message="Nothing has been saved yet, and nothing you typed is lost.", status_code=422)
        except Conflict as exc:
            return self._render(pk, typed, {}, message=str(exc), status_code=409)
        features.confirm(pk, ANCHOR, "Referral form details saved.")
        return redirect(features.back_to_case(pk, ANCHOR))

    @expose("/<int:pk>/referral-form.pdf")
    @has_access
    def pdf(self, pk: int):
        fmt, document, content = referral_form.download(g.user, pk, {"format": "pdf"})
        assert content is not None  # asked for the PDF
        return send_file(io.BytesIO(content), mimetype=referral_form.FORMATS[fmt], as_attachment=True,
                         download_name=referral_form.filename(document, fmt))
