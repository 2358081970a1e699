"""The pages of cases: raising a concern, following one's own, the case list and the case page, and the
reference data a concern is coded with (indicators, types of concern). Each reads input, calls one use case, renders."""
from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual

from app.cases import (
    access,
    actions,
    attachments,
    features,
    my_work,
    parallel_referrals,
    reporter,
    safeguarding_pages,
    schemas,
    statistics_schemes,
    subjects,
)
from app.cases import use_cases as cases
from app.cases.use_cases import CaseFilters
from app.directory import use_cases as directory
from app.directory.schemas import KIND_LABELS
from app.extensions import db
from app.governance import oversight
from app.kernel import formats, idempotency, page_forms, workflow
from app.kernel.errors import InvalidData
from app.kernel.page_forms import Words
from app.kernel.pages import (
    PAGE_SIZE,
    ReferenceDataInterface,
    enum_select,
    file_download,
    form_payload,
    submit,
    uploaded,
)
from app.kernel.security import CaseAccess, can, case_workers
from app.models import CaseStatus, ConcernType, Indicator, IndicatorKind
from app.subcontractors.use_cases import all_subcontractors

# The concern form's words for the use case's messages, in the order of the page (app/kernel/page_forms.py).
CONCERN_WORDS = {
    "police_called": Words(required="Say whether the police have been called"),
    "police_incident_number": Words(),
    "action_taken": Words(),
    "subject_id": Words(),
    "subject": Words(),
    "subject.full_name": Words(required="Enter the full name of the person the concern is about"),
    "subject.subject_type": Words(required="Choose who they are: a learner, a colleague or someone else"),
    "subject.date_of_birth": Words(date="their date of birth"),
    "subject.programme": Words(),
    "subject.learner_ref": Words(),
    "subject.subcontractor_id": Words(),
    "description": Words(required="Enter what you saw or heard"),
    "occurred_at": Words(date="the date it happened", time="the time it happened"),
    "location": Words(),
    "indicator_ids": Words(),
    "concern_type_id": Words(),
}


# The case page's forms (each a table, in the order of the form). A decision's fields are worded from their labels.
EVENT_WORDS = {
    "subject_informed": Words(required="Say whether the person (or their parent or carer) was told"),
    "consent": Words(other={"An adopted case needs the consent answer (given or declined).":
                            "Choose whether consent was given or declined: the case was adopted"}),
    "consent_by": Words(other={workflow.CONSENT_BY_MESSAGE:
                               "Choose who gave or declined consent: the person, or a parent or carer"}),
    "onward": Words(other={workflow.ONWARD_MESSAGE:
                           "Choose the onward route: the case was not adopted, or consent was declined"}),
}
CASE_FORM_WORDS = {
    "risk": {"police_called": Words(required="Say whether the police have been called"),
             "police_incident_number": Words(), "note": Words(required="Enter what is happening")},
    "action": {"title": Words(required="Enter what needs doing"), "owner_id": Words(required="Choose who will do it"),
               "due_date": Words(date="the date it is due")},
    "update_action": {"completion_note": Words(required="Enter a completion note: what was done")},
    "note": {"kind": Words(), "source": Words(), "text": Words(required="Enter what was found")},
    "review": {"note": Words(required="Enter what you reviewed and concluded"),
               "next_review_due": Words(date="the next review date")},
    "grant": {"user_id": Words(required="Choose the officer who needs to know"),
              "reason": Words(required="Enter why they need to know")},
    "revoke": {"reason": Words(required="Enter why you are withdrawing their access")},
    "break_glass": {"reason": Words(required="Enter why you need to open this case")},
}


def event_words(event: str) -> dict[str, Words]:
    """A decision's words, from its fields' labels ("Enter the exit reason", "The panel date must be a real date")."""
    table: dict[str, Words] = {}
    for row in workflow.TRANSITIONS:
        if row.event != event:
            continue
        for spec in row.fields:
            label = spec.label[:1].lower() + spec.label[1:]
            table[spec.name] = EVENT_WORDS.get(spec.name) or {
                "date": Words(date=f"the {label}"),
                "bool": Words(required=f"Answer yes or no: {spec.label}"),
                "choice": Words(required=f"Choose the {label}"),
            }.get(spec.kind, Words(required=f"Enter the {label}"))
    table["reason"] = Words(required="Enter the decision and your reasons")
    return table


def event_dates(event: str) -> tuple[str, ...]:
    return tuple(spec.name for row in workflow.TRANSITIONS if row.event == event
                 for spec in row.fields if spec.kind == "date")


class ConcernView(BaseView):
    """Raising a concern, for every employee, and following one's own concerns."""

    route_base = "/concerns"
    class_permission_name = "Case"
    method_permission_name = {"new": "raise", "raised": "raise", "mine": "read_own"}
    default_view = "new"

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        payload: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        # One form, one case: sent twice (a double click, a reload), it raises the concern once.
        form_token = idempotency.form_token()
        if request.method == "POST":
            payload = form_payload("indicator_ids")  # as typed, to show again
            payload.pop("form_token", None)
            payload["immediate_danger"] = "immediate_danger" in request.form
            payload["others_involved"] = features.people_rows(payload)
            uploads = features.uploads("attachments")
            concern, date_problems = page_forms.for_use_case(payload)

            def raise_concern():
                case = cases.raise_concern(g.user, concern, naive_zone=formats.UK, uploads=uploads)
                return redirect(url_for("ConcernView.raised", pk=case.id))

            try:
                response, repeated = idempotency.once(f"concern-form:{form_token}", raise_concern)
            except InvalidData as exc:
                errors = page_forms.specific(exc.errors, CONCERN_WORDS, date_problems)
            except idempotency.StillRunning:
                flash("This form was already sent: your concern is in the list below.", "info")
                return redirect(url_for("ConcernView.mine"))
            else:
                if repeated:
                    flash("This form was already sent: your concern was saved once, and nothing was sent twice.",
                          "info")
                return response
        found = []
        search = request.args.get("find", "").strip()
        if search and can(g.user, "can_read", "Subject"):
            found = subjects.search_subjects(db.session, g.user, search)
        indicators = db.session.scalars(sa.select(Indicator).where(Indicator.active.is_(True))
                                        .order_by(Indicator.position)).all()
        grouped = {kind: [i for i in indicators if i.kind == kind] for kind in IndicatorKind}
        types = db.session.scalars(sa.select(ConcernType).where(ConcernType.active.is_(True))
                                   .order_by(ConcernType.position)).all()
        return self.render_template(
            "concern_form.html", payload=payload, errors=errors, grouped=grouped, types=types, found=found,
            search=search, contacts=current_app.config["SAFEGUARDING_CONTACTS"],
            can_pick_subject=can(g.user, "can_read", "Subject"), form_token=form_token,
            people_rows=features.blank_people_rows(payload), upload=features.upload_limits(),
            subcontractors=all_subcontractors(db.session),
        ), (422 if errors else 200)

    @expose("/<int:pk>/raised")
    @has_access
    def raised(self, pk: int):
        case = cases.own_concern(db.session, g.user, pk)
        return self.render_template("concern_raised.html", case=case,
                                    contacts=current_app.config["SAFEGUARDING_CONTACTS"],
                                    may={"see_own_concerns": can(g.user, "can_read_own")})

    @expose("/mine")
    @has_access
    def mine(self):
        page = request.args.get("page", 0, type=int)
        count, rows = cases.list_cases(db.session, g.user, CaseFilters(reporter_id=g.user.id),
                                       page=max(page, 0), page_size=PAGE_SIZE)
        return self.render_template("my_concerns.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE)


class CaseView(safeguarding_pages.SafeguardingRoutes, BaseView):
    """Officers' list and the case page, with the workflow, actions, notes and (for the Lead) the audit trail."""

    route_base = "/cases"
    class_permission_name = "Case"
    method_permission_name = {
        "index": "read_all", "show": "read", "take_event": "transition", "immediate_risk": "record_risk",
        "add_action": "manage_actions", "update_action": "manage_actions", "add_note": "transition",
        "grant_access": "grant_access", "revoke_access": "grant_access", "add_review": "review", "review": "read_audit",
        "export": "export", "break_glass": "break_glass",
        "add_attachment": "read", "attachment": "read", "add_information": "read_own",
        **safeguarding_pages.SafeguardingRoutes.PERMISSIONS,
    }
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        args = request.args
        filters = CaseFilters(
            status=CaseStatus(args["status"]) if args.get("status") in CaseStatus.__members__ else None,
            concern_type_id=args.get("concern_type_id", type=int),
            urgent=True if args.get("urgent") == "yes" else None,
            overdue=True if args.get("overdue") == "yes" else None,
            stalled=True if args.get("stalled") == "yes" else None,
            action_owner_id=args.get("owner", type=int),
            search=args.get("find"),
        )
        page = max(args.get("page", 0, type=int), 0)
        count, rows = cases.list_cases(db.session, g.user, filters, page=page, page_size=PAGE_SIZE)
        types = db.session.scalars(sa.select(ConcernType).order_by(ConcernType.position)).all()
        return self.render_template("case_list.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE,
                                    statuses=list(CaseStatus), types=types, owners=case_workers(db.session),
                                    args=args, sealed=access.sealed_by_reference(db.session, g.user, filters.search))

    def _render_case(self, pk: int, *, opening: bool = False, draft: dict | None = None,
                     errors: dict | None = None, message: str | None = None, status_code: int = 200):
        """The case page; `opening` it (not showing it again after a refused form) is logged in the access log."""
        sealed = access.sealed_case(db.session, g.user, pk)
        if sealed is not None:  # the Lead, on a restricted case not given to them: why they would open it
            return self.render_template("break_glass.html", case=sealed, draft=draft or {}, errors=errors or {},
                                        message=message, hours=current_app.config["BREAK_GLASS_HOURS"]), \
                (403 if status_code == 200 else status_code)
        view = cases.read_case(g.user, pk, "page") if opening else cases.get_case(db.session, g.user, pk)
        done = features.confirmation(pk)
        if view.access is not CaseAccess.FULL:
            return self.render_template(
                "concern_reporter_view.html", case=view.case, draft=draft or {}, errors=errors or {},
                message=message, done=done, upload=features.upload_limits(),
                attachments=attachments.visible_attachments(db.session, g.user, view.case, view.access),
                additions=reporter.own_additions(db.session, g.user, pk),
                may={"add": view.case.is_open and view.case.reporter_id == g.user.id}), status_code
        case = view.case
        events = workflow.allowed_events(case.status, lambda permission: can(g.user, permission))
        context = dict(
            case=case, draft=draft or {}, errors=errors or {}, message=message, today=date.today(), events=events,
            # Whom to call for the subject's area, in the decisions that refer on (app/directory)
            directory=directory.suggestions(db.session, g.user, case, [row.event for row in events] + (
                [directory.PARALLEL_REFERRAL] if parallel_referrals.may_record_beside(g.user, case) else [])),
            contact_labels=KIND_LABELS,
            chronology=cases.chronology(db.session, g.user, pk),
            earlier=cases.earlier_concerns(db.session, g.user, case),
            stalled=cases.is_stalled(db.session, case.id),
            owners=case_workers(db.session), note_kinds=schemas.NOTE_KINDS,
            trail=cases.audit_trail(db.session, g.user, pk) if can(g.user, "can_read_audit") else None,
            may={"export": can(g.user, "can_export"), "record_risk": can(g.user, "can_record_risk"),
                 "manage_actions": can(g.user, "can_manage_actions"), "transition": can(g.user, "can_transition"),
                 "attach": case.is_open and can(g.user, "can_transition"),
                 "referral_form": can(g.user, "can_transition")},
            done=done, upload=features.upload_limits(),
            attachments=attachments.visible_attachments(db.session, g.user, case, view.access),
        )
        context.update(safeguarding_pages.context(db.session, g.user, case, date.today()))
        if case.restricted:
            context.update(broken_glass=access.broken_glass(db.session, pk))
        if case.restricted and can(g.user, "can_grant_access"):
            context.update(granted=access.granted_users(db.session, pk),
                           grant_candidates=access.grant_candidates(db.session, case))
        if can(g.user, "can_review"):
            context.update(reviews=oversight.reviews_of(db.session, pk),
                           seen_by=oversight.who_has_seen(db.session, g.user, pk))
        return self.render_template("case_page.html", **context), status_code

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._render_case(pk, opening=True)

    @staticmethod
    def _words(form_name: str, words: Mapping[str, Words] | None) -> Mapping[str, Words] | None:
        """The form's own words for its errors: `words`, else CASE_FORM_WORDS by the form's kind."""
        return words or CASE_FORM_WORDS.get(form_name.split(":", 1)[0])

    def _post(self, pk: int, form_name: str, call, success: str, *, words=None, dates: tuple[str, ...] = ()):
        return submit(call, form_name, functools.partial(self._render_case, pk), success,
                      url_for("CaseView.show", pk=pk), words=self._words(form_name, words), dates=dates)

    def _decide(self, pk: int, form_name: str, call, anchor: str, *list_fields: str,
                words: Mapping[str, Words] | None = None, dates: tuple[str, ...] = ()):
        """A decision on the case page: done, the page opens again where it was made (`anchor`), saying what
        happened (`call` returns the words); refused, the page shows the form again with what was typed, its
        errors in the form's own words (`_words`)."""
        said: list[str] = []
        response = submit(lambda payload: said.append(call(payload)), form_name,
                          functools.partial(self._render_case, pk), "", features.back_to_case(pk, anchor),
                          *list_fields, words=self._words(form_name, words), dates=dates)
        if said:
            features.confirm(pk, anchor, said[0])
        return response

    @expose("/<int:pk>/transition", methods=["POST"])
    @has_access
    def take_event(self, pk: int):
        def call(payload):
            if payload.get("version"):
                payload["version"] = int(payload["version"]) if payload["version"].isdigit() else -1
            return features.event_done(cases.transition(g.user, pk, payload), payload.get("event", ""))
        event = request.form.get("event", "")
        return self._decide(pk, "event:" + event, call, "decide", words=event_words(event), dates=event_dates(event))

    @expose("/<int:pk>/immediate-risk", methods=["POST"])
    @has_access
    def immediate_risk(self, pk: int):
        def call(payload):
            cases.record_immediate_risk(g.user, pk, payload)
            return "Immediate risk recorded. The case is marked urgent."
        return self._decide(pk, "risk", call, "decide")

    @expose("/<int:pk>/actions", methods=["POST"])
    @has_access
    def add_action(self, pk: int):
        return self._decide(pk, "action", lambda p: features.action_added(actions.add_action(g.user, pk, p)),
                            "actions-section", dates=("due_date",))

    @expose("/<int:pk>/actions/<int:action_id>", methods=["POST"])
    @has_access
    def update_action(self, pk: int, action_id: int):
        return self._decide(pk, f"action:{action_id}",
                            lambda p: features.action_updated(actions.update_action(g.user, action_id, p)),
                            "actions-section", words=CASE_FORM_WORDS["update_action"])

    @expose("/<int:pk>/notes", methods=["POST"])
    @has_access
    def add_note(self, pk: int):
        return self._decide(pk, "note", lambda p: features.note_added(cases.add_note(g.user, pk, p)), "check")

    @expose("/<int:pk>/attachments", methods=["POST"])
    @has_access
    def add_attachment(self, pk: int):
        """A file on the concern: by its reporter (their view of it) or an officer working on the case."""
        upload = uploaded("file")

        def call(payload):
            attachment = attachments.add_attachment(g.user, pk, upload.filename if upload else "",
                                                    upload.read() if upload else b"")
            return f"File attached: {attachment.file.filename}."
        return self._decide(pk, "attach", call, "attachments")

    @expose("/<int:pk>/attachments/<int:attachment_id>")
    @has_access
    def attachment(self, pk: int, attachment_id: int):
        return file_download(attachments.attachment_file(db.session, g.user, pk, attachment_id))

    @expose("/<int:pk>/information", methods=["POST"])
    @has_access
    def add_information(self, pk: int):
        """The reporter adds information to their own concern; the officers are told."""
        def call(payload):
            reporter.add_information(g.user, pk, payload)
            return "Thank you: your information was added to the concern, and the Safeguarding Officers were told."
        return self._decide(pk, "information", call, "add-information")

    @expose("/<int:pk>/review")
    @has_access
    def review(self, pk: int):
        """The Lead's case review: the chronology and the audit trail side by side, filtered by kind and person."""
        view = cases.read_case(g.user, pk, "page", what="review")
        kind, person = request.args.get("kind") or None, request.args.get("person") or None
        items = cases.chronology(db.session, g.user, pk)
        trail = cases.audit_trail(db.session, g.user, pk)
        return self.render_template(
            "case_review.html", case=view.case, kind=kind, person=person,
            kinds=sorted({i.kind for i in items} | {e.action for e in trail}),
            people=sorted({i.actor for i in items} | {e.actor for e in trail}),
            chronology=[i for i in items if kind in (None, i.kind) and person in (None, i.actor)],
            trail=[e for e in trail if kind in (None, e.action) and person in (None, e.actor)])

    @expose("/<int:pk>/export")
    @has_access
    def export(self, pk: int):
        try:
            made = oversight.export_chronology(g.user, pk, dict(request.args))
        except InvalidData:
            flash("Choose PDF or CSV.", "warning")
            return redirect(url_for("CaseView.show", pk=pk))
        return send_file(io.BytesIO(made.content), mimetype=made.mimetype, as_attachment=True,
                         download_name=made.filename)

    @expose("/<int:pk>/reviews", methods=["POST"])
    @has_access
    def add_review(self, pk: int):
        def call(payload):
            review = oversight.record_review(g.user, pk, payload)
            return f"Review recorded. The next review is due on {formats.uk_date(review.next_review_due)}."
        return self._decide(pk, "review", call, "reviews-section", dates=("next_review_due",))

    @expose("/<int:pk>/grants", methods=["POST"])
    @has_access
    def grant_access(self, pk: int):
        return self._post(pk, "grant", lambda p: access.grant_access(g.user, pk, p), "Access granted.")

    @expose("/<int:pk>/break-glass", methods=["POST"])
    @has_access
    def break_glass(self, pk: int):
        return self._post(pk, "break_glass", lambda p: access.break_glass(g.user, pk, p),
                          "You can open this case for now. The officers on it can see that you did, and why.")

    @expose("/<int:pk>/grants/<int:user_id>/revoke", methods=["POST"])
    @has_access
    def revoke_access(self, pk: int, user_id: int):
        return self._post(pk, f"revoke:{user_id}", lambda p: access.revoke_access(g.user, pk, user_id, p),
                          "Access withdrawn.")


class MyWorkView(BaseView):
    """"My work": the home page of officers and the Prevent Lead (app/cases/my_work.py)."""

    route_base = "/my-work"
    class_permission_name = "Case"
    method_permission_name = {"index": "read_all"}
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("my_work.html", work=my_work.my_work(db.session, g.user))


class IndicatorView(ModelView):
    """The provider's vulnerability table: the Prevent Lead can add more; entries are retired, never deleted."""

    datamodel = ReferenceDataInterface(Indicator)
    list_columns = ["kind", "label", "position", "active"]
    add_columns = edit_columns = ["kind", "label", "position", "active"]
    add_form_extra_fields = edit_form_extra_fields = {"kind": enum_select(IndicatorKind, "Kind")}
    # In words, in the list, the record and the search's choices: "Contributory factor", never contributory_factor.
    search_form_extra_fields = {"kind": enum_select(IndicatorKind, "Kind")}
    formatters_columns = {"kind": lambda value: formats.human(IndicatorKind(value))}
    base_order = ("kind", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    # No row or bulk actions: FAB's generic action routes would only answer an unknown action name with a crash (500).
    exclude_route_methods = {"action", "action_post"}


class ConcernTypeView(ModelView):
    """Types of concern, each with its Home Office category in each scheme (app/cases/statistics_schemes.py): an
    administrator can extend them and correct a mapping; entries are retired, never deleted."""

    datamodel = ReferenceDataInterface(ConcernType)
    list_columns = ["label", "pre_2025_category", "pcmt_2025_category", "position", "active"]
    add_columns = edit_columns = ["label", "pre_2025_category", "pcmt_2025_category", "position", "active"]
    label_columns = {"pre_2025_category": "Home Office category (pre-2025)",
                     "pcmt_2025_category": "Home Office category (PCMT 2025)"}
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        attribute: [["scheme", FilterEqual, scheme]]
        for scheme, attribute in statistics_schemes.CATEGORY_ATTRIBUTE.items()}
    base_order = ("position", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    # No row or bulk actions: FAB's generic action routes would only answer an unknown action name with a crash (500).
    exclude_route_methods = {"action", "action_post"}
