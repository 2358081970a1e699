"""The risk assessment's pages: the assessment by area with its RAG ratings and action plan, one risk with its
actions, and the signed-off versions (Governance, officers and the Prevent Lead read them); the Lead's forms to add
and change a risk, add an action, complete or cancel one, and sign the assessment off."""
from __future__ import annotations

import functools
from datetime import date
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.kernel import page_forms
from app.kernel.errors import Conflict, InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import form_payload, submit
from app.risks import use_cases as risks
from app.risks.models import Rag, Risk, RiskArea
from app.risks.presenters import person
from app.risks.schemas import AREA_LABELS, IMPACT_WORDS, LIKELIHOOD_WORDS, SCALE_MESSAGE

# The forms' words for the use cases' messages, in the order of each form (app/kernel/page_forms.py).
RISK_WORDS = {
    "area": Words(required="Choose the area of the risk"),
    "title": Words(required="Enter the risk: what could happen"),
    "likelihood": Words(required="Choose how likely it is", other={SCALE_MESSAGE: "Choose how likely it is, 1 to 5"}),
    "impact": Words(required="Choose how bad it would be",
                    other={SCALE_MESSAGE: "Choose how bad it would be, 1 to 5"}),
    "controls": Words(), "version": Words(),
}
ACTION_WORDS = {
    "title": Words(required="Enter what needs doing"),
    "owner_id": Words(required="Choose who will do it"),
    "due_date": Words(date="the due date"),
}
UPDATE_WORDS = {"completion_note": Words(required="Enter what was done (the completion note)"),
                "status": Words(required="Choose done or cancel")}
SIGN_OFF_WORDS = {"note": Words(required="Enter a note of the review: what was reviewed, with whom, what follows")}
RAG_WORDS = {Rag.red: "Red", Rag.amber: "Amber", Rag.green: "Green"}


def _values(risk: Risk) -> dict[str, Any]:
    """A risk as its form shows it."""
    return {"area": risk.area.value, "title": risk.title, "likelihood": str(risk.likelihood),
            "impact": str(risk.impact), "controls": risk.controls, "version": risk.version}


def _as_kept(risk: dict[str, Any]) -> dict[str, Any]:
    """A risk of a signed-off version as its page shows it: as it was kept, its actions' due dates read back."""
    return {**risk, "actions": [{**action, "due_date": date.fromisoformat(action["due_date"])}
                                for action in risk.get("actions", [])]}


def _common() -> dict[str, Any]:
    return {"areas": AREA_LABELS, "rag_words": RAG_WORDS, "likelihood_words": LIKELIHOOD_WORDS,
            "impact_words": IMPACT_WORDS, "may": {"edit": risks.may_edit(g.user)}, "today": date.today()}


class RiskView(BaseView):
    """The provider's Prevent risk assessment and action plan."""

    route_base = "/risk"
    class_permission_name = "Risk"
    method_permission_name = {"index": "read", "show": "read", "reviews": "read", "review": "read",
                              "new": "edit", "edit": "edit", "add_action": "edit", "update_action": "edit",
                              "sign_off": "edit"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = risks.list_risks(db.session, g.user)
        signed = risks.reviews(db.session, g.user)
        today = date.today()
        by_area = {area: [risk for risk in rows if risk.area == area] for area in RiskArea}
        counts = {rag: sum(1 for risk in rows if risk.rag == rag) for rag in risks.RAG_ORDER}
        overdue = sum(1 for risk in rows for action in risk.actions if action.overdue(today))
        return self.render_template("risk_assessment.html", by_area=by_area, counts=counts, overdue=overdue,
                                    total=len(rows), last=signed[0] if signed else None,
                                    last_by=person(signed[0][1].signed_off_by) if signed else "", **_common())

    def _render_form(self, risk: Risk | None, values: dict, errors: dict, message: str | None = None,
                     status_code: int | None = None):
        return self.render_template("risk_form.html", risk=risk, values=values, errors=errors, message=message,
                                    **_common()), status_code or (422 if errors else 200)

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._render_form(None, {}, {})
        payload = form_payload()
        try:
            risk = risks.add_risk(g.user, payload)
        except InvalidData as exc:
            return self._render_form(None, payload, page_forms.specific(exc.errors, RISK_WORDS))
        flash(f"Risk added: {risk.title}. Its rating is {RAG_WORDS[risk.rag].lower()}.", "success")
        return redirect(url_for("RiskView.show", pk=risk.id))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        risk = risks.get_risk(db.session, g.user, pk)
        if request.method == "GET":
            return self._render_form(risk, _values(risk), {})
        payload = form_payload()
        try:
            risks.update_risk(g.user, pk, payload)
        except InvalidData as exc:
            return self._render_form(risk, payload, page_forms.specific(exc.errors, RISK_WORDS))
        except Conflict as exc:
            db.session.rollback()
            return self._render_form(risks.get_risk(db.session, g.user, pk), payload, {}, str(exc), 409)
        flash("Risk updated.", "success")
        return redirect(url_for("RiskView.show", pk=pk))

    def _render_risk(self, pk: int, *, draft: dict | None = None, errors: dict | None = None,
                     message: str | None = None, status_code: int = 200):
        risk = risks.get_risk(db.session, g.user, pk)
        owners = [(str(user.id), f"{person(user)} ({user.username})") for user in risks.owners(db.session)] \
            if risks.may_edit(g.user) else []
        return self.render_template("risk_page.html", risk=risk, draft=draft or {}, errors=errors or {},
                                    message=message, owners=owners, **_common()), status_code

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render_risk(pk)

    @expose("/<int:pk>/actions", methods=["POST"])
    @has_access
    def add_action(self, pk: int):
        risks.get_risk(db.session, g.user, pk)  # 404 before the form is read
        return submit(lambda payload: risks.add_action(g.user, pk, payload), "action",
                      functools.partial(self._render_risk, pk), "Action added to the plan.",
                      url_for("RiskView.show", pk=pk, _anchor="actions"), words=ACTION_WORDS, dates=("due_date",))

    @expose("/action/<int:pk>", methods=["POST"])
    @has_access
    def update_action(self, pk: int):
        action = risks.get_action(db.session, g.user, pk)
        risk_id = action.risk_id
        done = {"done": "Action done.", "cancelled": "Action cancelled."}.get(request.form.get("status", ""), "")
        return submit(lambda payload: risks.update_action(g.user, pk, payload), f"action:{pk}",
                      functools.partial(self._render_risk, risk_id), done,
                      url_for("RiskView.show", pk=risk_id, _anchor="actions"), words=UPDATE_WORDS)

    def _render_reviews(self, *, draft: dict | None = None, errors: dict | None = None, message: str | None = None,
                        status_code: int = 200):
        return self.render_template("risk_reviews.html", signed=risks.reviews(db.session, g.user),
                                    total=len(risks.list_risks(db.session, g.user)), draft=draft or {},
                                    errors=errors or {}, message=message, **_common()), status_code

    @expose("/reviews/")
    @has_access
    def reviews(self):
        return self._render_reviews()

    @expose("/reviews/", methods=["POST"])
    @has_access
    def sign_off(self):
        return submit(lambda payload: risks.sign_off(g.user, payload), "sign_off", self._render_reviews,
                      "The risk assessment is signed off. This version is kept as it stands now.",
                      url_for("RiskView.reviews"), words=SIGN_OFF_WORDS)

    @expose("/reviews/<int:pk>")
    @has_access
    def review(self, pk: int):
        number, review = risks.get_review(db.session, g.user, pk)
        kept = [_as_kept(risk) for risk in review.snapshot]
        by_area = {area: [risk for risk in kept if risk["area"] == area.value] for area in RiskArea}
        return self.render_template("risk_review.html", number=number, review=review, by_area=by_area,
                                    signed_by=person(review.signed_off_by), **_common())
