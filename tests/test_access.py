"""Who may reach what: every role against every case route and API endpoint, and need-to-know on each record.

MATRIX is the reviewed answer for each (endpoint, method) and role; NOT_CASE_ROUTES lists everything else the app
serves, with the reason it is not a case route. A rule in `app.url_map` that is in neither fails the suite, so no new
route goes live unreviewed. Every (route, role) pair then runs against records of its own, made through the services.
"""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta
from functools import cached_property
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from app.cases import access, actions
from app.extensions import db
from app.models import AuditEvent, Case, ConcernType, Indicator, IndicatorKind
from tests.conftest import concern_payload, csrf_token, make_case, user
from tests.sample_files import PNG

# Outcomes. OK: the request did what it asks (2xx/3xx, or a 409/422 about the data). NO: 403, the role may not do
# this at all. GONE: 404, no such record for this user. LOGIN: a page sends the visitor to sign in. NOAUTH: API 401.
OK, NO, GONE, LOGIN, NOAUTH = "ok", "403", "404", "login", "401"
ROLES = ("staff", "officer", "lead", "director", "governance", "admin", None)  # None: not signed in

# Each route is tried on a case that "staff" raised. Roles: staff, Safeguarding Officer, Prevent Lead, Programme
# Director, Governance, Admin, and a visitor who is not signed in.
#                                                 staff offcr lead  dir.  gov.  admin anonymous
MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    # Raising a concern, and the reporter's own concerns
    ("ConcernView.new", "GET"):                  (OK,   OK,   OK,   OK,   OK,   OK,   LOGIN),
    ("ConcernView.new", "POST"):                 (OK,   OK,   OK,   OK,   OK,   OK,   LOGIN),
    ("ConcernView.raised", "GET"):               (OK,   GONE, GONE, GONE, GONE, GONE, LOGIN),   # the reporter's receipt
    ("ConcernView.mine", "GET"):                 (OK,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    # The officers' case pages
    ("CaseView.index", "GET"):                   (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.show", "GET"):                    (OK,   OK,   OK,   NO,   NO,   NO,   LOGIN),   # staff: reporter's view
    ("CaseView.take_event", "POST"):             (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.immediate_risk", "POST"):         (OK,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.add_action", "POST"):             (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.update_action", "POST"):          (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.add_note", "POST"):               (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.grant_access", "POST"):           (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.revoke_access", "POST"):          (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.break_glass", "POST"):            (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.export", "GET"):                  (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    # Files on a concern and the reporter's additions: the reporter on their own concern, officers on the cases
    # they work on; information only from the reporter (to anyone else it is no concern of theirs: 404)
    ("CaseView.add_attachment", "POST"):         (OK,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.attachment", "GET"):              (OK,   OK,   OK,   NO,   NO,   NO,   LOGIN),   # staff: their own file
    ("CaseView.add_information", "POST"):        (OK,   GONE, GONE, NO,   NO,   NO,   LOGIN),
    # Beside the pathway (parallel referrals, referrer safety): officers and the Lead on the cases they work on;
    # the reporter, like any other member of staff, finds no such thing (404)
    ("CaseView.add_parallel_referral", "POST"):  (GONE, OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.set_referrer_safety", "POST"):    (GONE, OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("MyWorkView.index", "GET"):                 (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    # The national referral form: its details and the PDF, officers and the Lead only (not the reporter)
    ("ReferralFormView.edit", "GET"):            (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("ReferralFormView.edit", "POST"):           (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("ReferralFormView.pdf", "GET"):             (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("BoardReportView.board", "GET"):            (NO,   NO,   OK,   NO,   OK,   NO,   LOGIN),
    ("EvidencePackView.index", "GET"):           (NO,   NO,   OK,   NO,   OK,   NO,   LOGIN),
    ("CaseView.review", "GET"):                  (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("CaseView.add_review", "POST"):             (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("OversightView.index", "GET"):              (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("OversightView.access", "GET"):             (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    # Reference data (FAB ModelViews): the Lead keeps indicators, the Admin types of concern; entries are retired,
    # never deleted, and there are no uploads to download
    ("IndicatorView.list", "GET"):               (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.show", "GET"):               (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.add", "GET"):                (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.add", "POST"):               (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.edit", "GET"):               (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.edit", "POST"):              (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.delete", "GET"):             (NO,   NO,   NO,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.delete", "POST"):            (NO,   NO,   NO,   NO,   NO,   NO,   LOGIN),
    ("IndicatorView.download", "GET"):           (NO,   NO,   NO,   NO,   NO,   NO,   LOGIN),
    ("ConcernTypeView.list", "GET"):             (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("ConcernTypeView.show", "GET"):             (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("ConcernTypeView.add", "GET"):              (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("ConcernTypeView.add", "POST"):             (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("ConcernTypeView.edit", "GET"):             (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("ConcernTypeView.edit", "POST"):            (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("ConcernTypeView.delete", "GET"):           (NO,   NO,   NO,   NO,   NO,   NO,   LOGIN),
    ("ConcernTypeView.delete", "POST"):          (NO,   NO,   NO,   NO,   NO,   NO,   LOGIN),
    ("ConcernTypeView.download", "GET"):         (NO,   NO,   NO,   NO,   NO,   NO,   LOGIN),
    # The REST API
    ("CaseApi.list_cases", "GET"):               (OK,   OK,   OK,   NO,   NO,   NO,   NOAUTH),  # staff: their own only
    ("CaseApi.raise_concern", "POST"):           (OK,   OK,   OK,   OK,   OK,   OK,   NOAUTH),
    ("CaseApi.get_case", "GET"):                 (OK,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.take_event", "POST"):              (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.immediate_risk", "POST"):          (OK,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.get_chronology", "GET"):           (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.add_action", "POST"):              (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.add_note", "POST"):                (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.get_audit", "GET"):                (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.grant_access", "POST"):            (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.revoke_access", "DELETE"):         (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.break_glass", "POST"):             (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.export_chronology", "GET"):        (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.add_attachment", "POST"):          (OK,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.list_attachments", "GET"):         (OK,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.get_attachment", "GET"):           (OK,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("CaseApi.add_information", "POST"):         (OK,   GONE, GONE, NO,   NO,   NO,   NOAUTH),
    ("SafeguardingApi.add_parallel_referral", "POST"):   (GONE, OK, OK, NO, NO, NO, NOAUTH),
    ("SafeguardingApi.list_parallel_referrals", "GET"):  (GONE, OK, OK, NO, NO, NO, NOAUTH),
    ("SafeguardingApi.put_referrer_safety", "PUT"):      (GONE, OK, OK, NO, NO, NO, NOAUTH),
    ("SafeguardingApi.get_referrer_safety", "GET"):      (GONE, OK, OK, NO, NO, NO, NOAUTH),
    ("MyWorkApi.get_my_work", "GET"):            (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("ReferralFormApi.get_referral_form", "GET"):    (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("ReferralFormApi.put_referral_form", "PUT"):    (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("ReportApi.board", "GET"):                  (NO,   NO,   OK,   NO,   OK,   NO,   NOAUTH),
    ("EvidencePackApi.evidence_pack", "GET"):    (NO,   NO,   OK,   NO,   OK,   NO,   NOAUTH),
    ("CaseApi.get_access_log", "GET"):           (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("AccessLogApi.list_entries", "GET"):        (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("ActionApi.update_action", "PUT"):          (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("SubjectApi.create", "POST"):               (OK,   OK,   OK,   OK,   OK,   OK,   NOAUTH),
    ("SubjectApi.search", "GET"):                (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("SubjectApi.get_subject", "GET"):           (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("ReferenceApi.indicators", "GET"):          (OK,   OK,   OK,   OK,   OK,   OK,   NOAUTH),
    ("ReferenceApi.concern_types", "GET"):       (OK,   OK,   OK,   OK,   OK,   OK,   NOAUTH),
    ("AuditApi.verify", "GET"):                  (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    # Retention and subject rights: the Prevent Lead only (case references, legal hold, everything about a person)
    ("RetentionView.index", "GET"):              (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RetentionView.approve", "POST"):           (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RetentionView.hold", "POST"):              (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RetentionView.staff_record", "POST"):      (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RetentionView.access_export", "GET"):      (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RetentionApi.overview", "GET"):            (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("RetentionApi.approve", "POST"):            (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("SubjectRightsApi.legal_hold", "PUT"):      (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("SubjectRightsApi.staff_record", "PUT"):    (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("SubjectRightsApi.access_export", "GET"):   (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    # The provider's Prevent risk assessment and action plan (no case data; tested further in tests/test_risks.py):
    # Governance and officers read it, the Prevent Lead keeps it and signs it off
    ("RiskView.index", "GET"):                   (NO,   OK,   OK,   NO,   OK,   NO,   LOGIN),
    ("RiskView.show", "GET"):                    (NO,   OK,   OK,   NO,   OK,   NO,   LOGIN),
    ("RiskView.reviews", "GET"):                 (NO,   OK,   OK,   NO,   OK,   NO,   LOGIN),
    ("RiskView.review", "GET"):                  (NO,   OK,   OK,   NO,   OK,   NO,   LOGIN),
    ("RiskView.new", "GET"):                     (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskView.new", "POST"):                    (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskView.edit", "GET"):                    (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskView.edit", "POST"):                   (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskView.add_action", "POST"):             (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskView.update_action", "POST"):          (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskView.sign_off", "POST"):               (NO,   NO,   OK,   NO,   NO,   NO,   LOGIN),
    ("RiskApi.list_risks", "GET"):               (NO,   OK,   OK,   NO,   OK,   NO,   NOAUTH),
    ("RiskApi.list_reviews", "GET"):             (NO,   OK,   OK,   NO,   OK,   NO,   NOAUTH),
    ("RiskApi.add_risk", "POST"):                (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("RiskApi.update_risk", "PUT"):              (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("RiskApi.add_action", "POST"):              (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("RiskApi.update_action", "PUT"):            (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    ("RiskApi.sign_off", "POST"):                (NO,   NO,   OK,   NO,   NO,   NO,   NOAUTH),
    # Monitoring alerts (app/monitoring): officers and the Lead read and triage them (raising a concern from one
    # makes a case); the Admin keeps the sources and their keys, and reads no alert. Alerts come in with a source's
    # key, never with anyone's sign-in: every role's token is refused (401). More in tests/test_monitoring.py.
    ("MonitoringAlertView.index", "GET"):        (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("MonitoringAlertView.show", "GET"):         (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("MonitoringAlertView.raise_concern", "POST"):   (NO, OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("MonitoringAlertView.dismiss", "POST"):     (NO,   OK,   OK,   NO,   NO,   NO,   LOGIN),
    ("MonitoringSourceView.index", "GET"):       (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("MonitoringSourceView.add", "POST"):        (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("MonitoringSourceView.revoke", "POST"):     (NO,   NO,   NO,   NO,   NO,   OK,   LOGIN),
    ("MonitoringApi.list_alerts", "GET"):        (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("MonitoringApi.get_alert", "GET"):          (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("MonitoringApi.dismiss_alert", "POST"):     (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("MonitoringApi.raise_concern", "POST"):     (NO,   OK,   OK,   NO,   NO,   NO,   NOAUTH),
    ("MonitoringApi.receive_alert", "POST"):     (NOAUTH, NOAUTH, NOAUTH, NOAUTH, NOAUTH, NOAUTH, NOAUTH),
}


def _crud(view: str) -> set[str]:
    return {f"{view}.{name}" for name in ("list", "show", "add", "edit", "delete", "download", "action", "action_post")}


def _rest(api: str, *extra: str) -> set[str]:
    return {f"{api}.{name}" for name in ("get_list", "get", "post", "put", "delete", "info", *extra)}


# Everything else in the url_map, by endpoint (all methods), with why it holds no case data.
NOT_CASE_ROUTES: dict[str, set[str]] = {
    "static files": {"static", "appbuilder.static"},
    "home page, sign-in and out, language switch, back link: no records": {
        "HomeView.index", "AuthDBView.login", "AuthDBView.logout", "LocaleView.index", "UtilView.back"},
    "FAB user, role and permission administration pages (Admin), and role grants (Admin and Lead; tested in "
    "tests/test_separation_of_duties.py): users, not cases": {
        *_crud("UserDBModelView") - {"UserDBModelView.delete"}, "UserDBModelView.userinfo", *_crud("RoleModelView"),
        *_crud("UserGroupModelView"),
        *_crud("PermissionModelView"), *_crud("PermissionViewModelView"), *_crud("ViewMenuModelView"),
        "UserStatsChartView.chart", "ResetPasswordView.this_form_get", "ResetPasswordView.this_form_post",
        "RoleGrantView.index", "RoleGrantView.approve", "RoleGrantView.decline"},
    "two-step sign-in: one's own set-up, second step and recovery codes, and the Admin's sign-in help (a reset, a "
    "lock lifted: users, not cases); "
    "tested in tests/test_mfa.py": {
        "TwoStepView.index", "TwoStepView.enrol", "TwoStepView.verify", "TwoStepView.renew_codes",
        "TwoStepView.users", "TwoStepView.reset", "TwoStepView.unlock"},
    "one's own profile and password (every signed-in user)": {
        "ResetMyPasswordView.this_form_get", "ResetMyPasswordView.this_form_post",
        "UserInfoEditView.this_form_get", "UserInfoEditView.this_form_post"},
    "FAB security REST API: token sign-in, refresh and sign-out, users, roles, permissions, groups": {
        "SecurityApi.login", "SecurityApi.refresh", "SecurityApi.logout", *_rest("UserApi"), *_rest("GroupApi"),
        *_rest("ViewMenuApi"),
        "PermissionApi.get_list", "PermissionApi.get", "PermissionApi.info", *_rest("PermissionViewMenuApi"),
        *_rest("RoleApi", "update_role_groups", "add_role_permissions", "list_role_permissions",
               "update_role_users")},
    "email delivery (Admin) and one's own email settings: references and dates only, never case content": {
        "OutboxView.index", "OutboxView.retry", "MyEmailView.show", "MyEmailView.update"},
    "the menu and the API's description (OpenAPI, Swagger): no records": {
        "MenuApi.get_menu_data", "OpenApi.get", "SwaggerView.show"},
    "partner employers, their communications, attachments and coverage figures: no case data (apprentices by name "
    "and programme, never one a concern was raised about); roles tested in tests/test_employers.py": {
        "EmployerView.index", "EmployerView.show", "EmployerView.new", "EmployerView.edit",
        "EmployerView.log_communication", "EmployerView.record_acknowledgement", "EmployerView.add_attachment",
        "EmployerView.download", "EmployerView.send_awareness_email", "CoverageView.index",
        "EmployerApi.list_employers", "EmployerApi.create_employer", "EmployerApi.get_employer",
        "EmployerApi.update_employer", "EmployerApi.list_communications", "EmployerApi.log_communication",
        "CoverageApi.coverage"},
    "the directory of Prevent contacts by area (police Prevent, Channel leads, MASH, DfE coordinators): no case "
    "data; roles tested in tests/test_directory.py": {
        "DirectoryView.index", "DirectoryView.new", "DirectoryView.edit", "DirectoryView.retire",
        "DirectoryView.restore", "DirectoryApi.list_contacts"},
    "one's own drafts and session (app/drafts): a save, a clear, how long the session has left, stay signed in; "
    "they answer with no draft's words (drafts come back only inside the forms of pages checked here); tested per "
    "role in tests/test_drafts.py": {"drafts.save", "drafts.clear", "drafts.status", "drafts.stay"},
    "the public acknowledgement link from the awareness email (no sign-in; the signed link is the key)": {
        "EmployerAcknowledgementView.confirm", "EmployerAcknowledgementView.acknowledge"},
    "staff training: the staff list, completions, certificates, imports, compliance figures and courses; no case "
    "data; roles tested in tests/test_training.py": {
        *{f"TrainingView.{name}" for name in ("mine", "record", "certificate", "staff", "add_staff", "sync",
                                              "staff_member", "update_staff", "verify", "import_form",
                                              "check_import", "run_import")},
        "ComplianceView.index", *_crud("TrainingCourseView") - {"TrainingCourseView.action",
                                                                 "TrainingCourseView.action_post"},
        "TrainingRecordApi.list_records",
        "TrainingRecordApi.record_completion", "TrainingRecordApi.get_record", "TrainingRecordApi.verify",
        "ComplianceApi.compliance", "CourseReferenceApi.courses",
        *{f"TrainingRequirementView.{name}" for name in ("index", "add", "remove")}},
    "subcontractors (their Prevent contact, programmes): no case data; roles tested in tests/test_subcontractors.py": {
        *{f"SubcontractorView.{name}" for name in ("index", "new", "edit", "retire", "restore")},
        "SubcontractorApi.list_subcontractors"},
    "the provider's policies (one's own confirmations, the Lead's register, compliance figures): no case data; roles "
    "tested in tests/test_policies.py": {
        "PolicyView.mine", "PolicyView.confirm", "PolicyView.register", "PolicyView.policy", "PolicyView.add_version",
        "PolicyView.applies", "PolicyComplianceView.index", "PolicyApi.list_policies", "PolicyApi.confirm",
        "PolicyComplianceApi.compliance"},
    "British values activities and Learner Voice results per programme (counts, no learner's answers): no case data; "
    "roles tested in tests/test_british_values.py": {
        "BritishValuesView.index", "BritishValuesView.activity", "BritishValuesView.log_activity",
        "BritishValuesView.survey", "BritishValuesView.log_survey", "BritishValuesView.evidence",
        "BritishValuesApi.log_activity", "BritishValuesApi.summary", "LearnerVoiceApi.log_survey"},
    "the provider's settings (the Lead's grace before a post-exit review is due): no case data; roles tested in "
    "tests/test_pathway_rules.py": {"SettingsView.index", "SettingsView.save"},
    "external speakers and events: requests by any employee (staff see their own), the register and decisions "
    "(officers and the Lead); no case data; roles tested in tests/test_speakers.py": {
        "SpeakerView.mine", "SpeakerView.new", "SpeakerView.register", "SpeakerView.show", "SpeakerView.materials",
        "SpeakerView.decide",
        "SpeakerRequestApi.list_requests", "SpeakerRequestApi.request_approval", "SpeakerRequestApi.get_request",
        "SpeakerRequestApi.decide"},
}
NOT_CASE = {endpoint for group in NOT_CASE_ROUTES.values() for endpoint in group}


def uid(username: str) -> int:
    return user(username).id


def later(days: int = 7) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


class Records:
    """The records one test works on, each made on first use through the services: no test sees another's changes.

    `marker` is in the case's description and the subject's name, so that a leak shows in any response body.
    """

    def __init__(self, restricted: bool = False):
        self.marker = uuid.uuid4().hex
        self.restricted = restricted  # the case is a concern about a colleague

    def _raise(self, subject_type: str) -> int:
        kind = ConcernType(label=f"Access test {uuid.uuid4().hex}", position=10_000, active=True)
        db.session.add(kind)
        db.session.commit()
        # Only this case uses it, to find the case in filtered lists.
        return make_case("staff", concern_type_id=kind.id, description=f"Concern text {self.marker}",
                         subject={"full_name": f"Person {self.marker}", "subject_type": subject_type})

    @cached_property
    def case(self) -> int:
        return self._raise("staff" if self.restricted else "learner")

    @cached_property
    def restricted_case(self) -> int:
        """A concern about a colleague that officer2 was granted (officer was not)."""
        case_id = self.case if self.restricted else self._raise("staff")
        access.grant_access(user("lead"), case_id, {"user_id": uid("officer2"), "reason": "Needs to know"})
        return case_id

    @cached_property
    def sealed_case(self) -> int:
        """A concern about a colleague the Lead handed to officer2 and then withdrew from: the Lead may open it only
        by breaking glass."""
        case_id = self.restricted_case
        access.revoke_access(user("lead"), case_id, uid("lead"), {"reason": "Handed over: I know them"})
        return case_id

    @cached_property
    def case_row(self) -> Case:
        return db.session.get(Case, self.case)

    @cached_property
    def concern_type(self) -> int:
        return self.case_row.concern_type_id

    @cached_property
    def subject(self) -> int:
        return self.case_row.subject_id

    @cached_property
    def action(self) -> int:
        return actions.add_action(user("lead"), self.case, {"title": "Call the tutor", "owner_id": uid("lead"),
                                                            "due_date": later()}).id

    @cached_property
    def attachment(self) -> int:
        """A photo the reporter (staff) attached to the case."""
        from app.cases import attachments
        return attachments.add_attachment(user("staff"), self.case, "photo.png", PNG).id

    @cached_property
    def due_subject(self) -> int:
        """The subject of a closed case whose retention period has ended, proposed for erasure as the job does."""
        from app.kernel import audit
        from app.models import Subject
        case_id = make_case("staff", "closed", occurred_at="2010-06-01T10:00:00+00:00",
                            subject={"full_name": f"Person {self.marker}", "subject_type": "learner",
                                     "date_of_birth": "1995-01-01"})
        subject = db.session.get(Subject, db.session.get(Case, case_id).subject_id)
        subject.erasure_due_on, subject.erasure_rule = date(2020, 1, 1), "child_dob_plus_25"
        audit.record(db.session, "system:retention", "retention_proposed", subject)
        db.session.commit()
        return subject.id

    @cached_property
    def staff_member(self) -> str:
        """The email of someone on the staff list who has left."""
        from app.training import use_cases as training
        email = f"left-{self.marker}@example.org"
        training.add_staff(user("lead"), {"full_name": "Former Colleague", "email": email, "left_on": "2020-01-31"})
        return email

    @cached_property
    def risk(self) -> int:
        """A risk of the provider's risk assessment (app/risks)."""
        from app.risks import use_cases as risks
        return risks.add_risk(user("lead"), {"area": "site_welfare", "title": f"Access test {self.marker}",
                                             "likelihood": 2, "impact": 3, "controls": "Reception signs in"}).id

    @cached_property
    def risk_action(self) -> int:
        from app.risks import use_cases as risks
        return risks.add_action(user("lead"), self.risk, {"title": "Check the visitor log", "owner_id": uid("lead"),
                                                          "due_date": later()}).id

    @cached_property
    def risk_review(self) -> int:
        """A signed-off version of the risk assessment, holding this test's risk."""
        from app.risks import use_cases as risks
        self.risk  # noqa: B018  (made first, so that the version holds it)
        return risks.sign_off(user("lead"), {"note": "Reviewed with the Board"}).id

    @cached_property
    def monitoring_source(self) -> int:
        from app.monitoring import use_cases as monitoring
        return monitoring.add_source(user("admin"), {"name": f"Filter {self.marker}"})[0].id

    @cached_property
    def alert(self) -> int:
        """A monitoring alert awaiting triage, its words holding the marker."""
        from app.monitoring import use_cases as monitoring
        _, key = monitoring.add_source(user("admin"), {"name": f"Monitor {self.marker}"})
        alert, _ = monitoring.receive_alert(key, {
            "source_id": self.marker, "occurred_at": (datetime.now() - timedelta(hours=1)).isoformat(),
            "user": "a.learner", "category": "Extremism", "severity": "high", "excerpt": f"Alert text {self.marker}"})
        return alert.id

    @cached_property
    def indicator(self) -> int:
        row = Indicator(kind=IndicatorKind.indicator, label=f"Access test {self.marker}", position=10_000, active=False)
        db.session.add(row)
        db.session.commit()
        return row.id


# The same requests, for records that do not exist.
MISSING = SimpleNamespace(marker="-", case=987_654_321, restricted_case=987_654_321, sealed_case=987_654_321,
                          concern_type=987_654_321, subject=987_654_321, action=987_654_321, indicator=987_654_321,
                          attachment=987_654_321, alert=987_654_321, monitoring_source=987_654_321)


class Multipart(dict):
    """A body sent as multipart/form-data (a file), to the API as to the pages."""


def a_photo() -> Multipart:
    return Multipart(file=(io.BytesIO(PNG), "photo.png"))


def concern_form(t) -> dict[str, Any]:
    yesterday = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {"subject.full_name": "Page Person", "subject.subject_type": "learner", "description": "Seen on a page",
            "occurred_at": yesterday}


def reference_form(t) -> dict[str, Any]:
    # FAB's form cannot save an unticked `active`: the entry is active (and gone with the test's transaction)
    return {"kind": "indicator", "label": f"Access test {uuid.uuid4().hex}", "position": "10000", "active": "y"}


def case_filter(t) -> str:
    return f"(filters:!((col:concern_type_id,opr:eq,value:{t.concern_type})))"


# How each route is called: (path, body). Bodies are valid, so that an allowed write really changes something.
REQUESTS = {
    "ConcernView.new": lambda t: ("/concerns/new", concern_form(t)),
    "ConcernView.raised": lambda t: (f"/concerns/{t.case}/raised", None),
    "ConcernView.mine": lambda t: ("/concerns/mine", None),
    "CaseView.index": lambda t: (f"/cases/?concern_type_id={t.concern_type}", None),
    "CaseView.show": lambda t: (f"/cases/{t.case}", None),
    "CaseView.take_event": lambda t: (f"/cases/{t.case}/transition", {"event": "acknowledge", "reason": "Read it"}),
    "CaseView.immediate_risk": lambda t: (f"/cases/{t.case}/immediate-risk", {"police_called": "yes", "note": "999"}),
    "CaseView.add_action": lambda t: (f"/cases/{t.case}/actions", {"title": "Ring", "owner_id": uid("officer"),
                                                                    "due_date": later()}),
    "CaseView.update_action": lambda t: (f"/cases/{t.case}/actions/{t.action}", {"status": "done",
                                                                                  "completion_note": "Rang"}),
    "CaseView.add_note": lambda t: (f"/cases/{t.case}/notes", {"kind": "note", "text": "Spoke to the tutor"}),
    "CaseView.grant_access": lambda t: (f"/cases/{t.restricted_case}/grants", {"user_id": uid("officer"),
                                                                               "reason": "Covering"}),
    "CaseView.revoke_access": lambda t: (f"/cases/{t.restricted_case}/grants/{uid('officer2')}/revoke",
                                         {"reason": "Cover ended"}),
    "CaseView.break_glass": lambda t: (f"/cases/{t.sealed_case}/break-glass", {"reason": "Police asked about them"}),
    "CaseView.export": lambda t: (f"/cases/{t.case}/export?format=csv", None),
    "CaseView.add_attachment": lambda t: (f"/cases/{t.case}/attachments", a_photo()),
    "CaseView.attachment": lambda t: (f"/cases/{t.case}/attachments/{t.attachment}", None),
    "CaseView.add_information": lambda t: (f"/cases/{t.case}/information", {"text": "They said it again today"}),
    "CaseView.add_parallel_referral": lambda t: (f"/cases/{t.case}/parallel-referrals", {
        "kind": "mash", "referred_on": date.today().isoformat(), "note": "Copy emailed to the MASH"}),
    "CaseView.set_referrer_safety": lambda t: (f"/cases/{t.case}/referrer-safety", {
        "risk": "concern", "police_informed": "no", "measures": "Works from another site for now"}),
    "MyWorkView.index": lambda t: ("/my-work/", None),
    "ReferralFormView.edit": lambda t: (f"/cases/{t.case}/referral-form", {"postcode": "BS1 4DJ",
                                                                          "online_activity": "Shares videos"}),
    "ReferralFormView.pdf": lambda t: (f"/cases/{t.case}/referral-form.pdf", None),
    "ReferralFormApi.get_referral_form": lambda t: (f"/api/v1/case/{t.case}/referral_form", None),
    "ReferralFormApi.put_referral_form": lambda t: (f"/api/v1/case/{t.case}/referral_form",
                                                    {"postcode": "BS1 4DJ", "online_activity": "Shares videos"}),
    "BoardReportView.board": lambda t: ("/reports/board?from=2026-01-01&to=2026-12-31", None),
    "EvidencePackView.index": lambda t: ("/reports/evidence-pack/", None),
    "CaseView.review": lambda t: (f"/cases/{t.case}/review?person=staff", None),
    "CaseView.add_review": lambda t: (f"/cases/{t.case}/reviews", {"note": "Handled well so far"}),
    "OversightView.index": lambda t: ("/oversight/", None),
    "OversightView.access": lambda t: (f"/oversight/access?user={uid('officer')}", None),
    "IndicatorView.list": lambda t: ("/indicatorview/list/", None),
    "IndicatorView.show": lambda t: (f"/indicatorview/show/{t.indicator}", None),
    "IndicatorView.add": lambda t: ("/indicatorview/add", reference_form(t)),
    "IndicatorView.edit": lambda t: (f"/indicatorview/edit/{t.indicator}", reference_form(t)),
    "IndicatorView.delete": lambda t: (f"/indicatorview/delete/{t.indicator}", {}),
    "IndicatorView.download": lambda t: ("/indicatorview/download/x.txt", None),
    "ConcernTypeView.list": lambda t: ("/concerntypeview/list/", None),
    "ConcernTypeView.show": lambda t: (f"/concerntypeview/show/{t.concern_type}", None),
    "ConcernTypeView.add": lambda t: ("/concerntypeview/add", reference_form(t)),
    "ConcernTypeView.edit": lambda t: (f"/concerntypeview/edit/{t.concern_type}", reference_form(t)),
    "ConcernTypeView.delete": lambda t: (f"/concerntypeview/delete/{t.concern_type}", {}),
    "ConcernTypeView.download": lambda t: ("/concerntypeview/download/x.txt", None),
    "CaseApi.list_cases": lambda t: (f"/api/v1/case/?q={case_filter(t)}", None),
    "CaseApi.raise_concern": lambda t: ("/api/v1/case/", concern_payload()),
    "CaseApi.get_case": lambda t: (f"/api/v1/case/{t.case}", None),
    "CaseApi.take_event": lambda t: (f"/api/v1/case/{t.case}/transition", {"event": "acknowledge", "reason": "Read"}),
    "CaseApi.immediate_risk": lambda t: (f"/api/v1/case/{t.case}/immediate_risk", {"police_called": True,
                                                                                    "note": "999 called"}),
    "CaseApi.get_chronology": lambda t: (f"/api/v1/case/{t.case}/chronology", None),
    "CaseApi.add_action": lambda t: (f"/api/v1/case/{t.case}/actions", {"title": "Ring", "owner_id": uid("officer"),
                                                                        "due_date": later()}),
    "CaseApi.add_note": lambda t: (f"/api/v1/case/{t.case}/notes", {"kind": "note", "text": "Spoke to the tutor"}),
    "CaseApi.get_audit": lambda t: (f"/api/v1/case/{t.case}/audit", None),
    "CaseApi.grant_access": lambda t: (f"/api/v1/case/{t.restricted_case}/grants", {"user_id": uid("officer"),
                                                                                    "reason": "Covering"}),
    "CaseApi.revoke_access": lambda t: (f"/api/v1/case/{t.restricted_case}/grants/{uid('officer2')}",
                                        {"reason": "Cover ended"}),
    "CaseApi.break_glass": lambda t: (f"/api/v1/case/{t.sealed_case}/break_glass",
                                      {"reason": "Police asked about them"}),
    "CaseApi.export_chronology": lambda t: (f"/api/v1/case/{t.case}/export?format=pdf&redact_staff=true", None),
    "CaseApi.add_attachment": lambda t: (f"/api/v1/case/{t.case}/attachments", a_photo()),
    "CaseApi.list_attachments": lambda t: (f"/api/v1/case/{t.case}/attachments", None),
    "CaseApi.get_attachment": lambda t: (f"/api/v1/case/{t.case}/attachments/{t.attachment}", None),
    "CaseApi.add_information": lambda t: (f"/api/v1/case/{t.case}/information", {"text": "They said it again"}),
    "SafeguardingApi.add_parallel_referral": lambda t: (f"/api/v1/case/{t.case}/parallel_referrals", {
        "kind": "mash", "referred_on": date.today().isoformat(), "note": "Copy emailed to the MASH"}),
    "SafeguardingApi.list_parallel_referrals": lambda t: (f"/api/v1/case/{t.case}/parallel_referrals", None),
    "SafeguardingApi.put_referrer_safety": lambda t: (f"/api/v1/case/{t.case}/referrer_safety", {
        "risk": "concern", "police_informed": False, "measures": "Works from another site for now"}),
    "SafeguardingApi.get_referrer_safety": lambda t: (f"/api/v1/case/{t.case}/referrer_safety", None),
    "MyWorkApi.get_my_work": lambda t: ("/api/v1/my_work/", None),
    "ReportApi.board": lambda t: ("/api/v1/report/board?from=2026-01-01&to=2026-12-31", None),
    "EvidencePackApi.evidence_pack": lambda t: ("/api/v1/report/evidence_pack?from=2026-01-01&to=2026-12-31", None),
    "CaseApi.get_access_log": lambda t: (f"/api/v1/case/{t.case}/access_log", None),
    "AccessLogApi.list_entries": lambda t: ("/api/v1/access_log/?q=(page_size:5)", None),
    "ActionApi.update_action": lambda t: (f"/api/v1/action/{t.action}", {"status": "done", "completion_note": "Rang"}),
    "SubjectApi.create": lambda t: ("/api/v1/subject/", {"full_name": "Api Person", "subject_type": "learner"}),
    "SubjectApi.search": lambda t: (f"/api/v1/subject/?q=(search:'Person {t.marker}')", None),
    "SubjectApi.get_subject": lambda t: (f"/api/v1/subject/{t.subject}", None),
    "ReferenceApi.indicators": lambda t: ("/api/v1/reference/indicators", None),
    "ReferenceApi.concern_types": lambda t: ("/api/v1/reference/concern_types", None),
    "AuditApi.verify": lambda t: ("/api/v1/audit/verify", None),
    "RetentionView.index": lambda t: ("/retention/", None),
    "RetentionView.approve": lambda t: ("/retention/approve", {"subject_ids": t.due_subject, "reason": "Due"}),
    "RetentionView.hold": lambda t: ("/retention/hold", {"reference": t.case_row.reference, "hold": "yes",
                                                          "reason": "Civil claim"}),
    "RetentionView.staff_record": lambda t: ("/retention/staff-record", {
        "reference": db.session.get(Case, t.restricted_case).reference, "staff": t.staff_member}),
    "RetentionView.access_export": lambda t: (f"/retention/access-export?reference={t.case_row.reference}"
                                              "&format=json", None),
    "RetentionApi.overview": lambda t: ("/api/v1/retention/", None),
    "RetentionApi.approve": lambda t: ("/api/v1/retention/approve", {"subject_ids": [t.due_subject],
                                                                     "reason": "Due"}),
    "SubjectRightsApi.legal_hold": lambda t: (f"/api/v1/subject/{t.subject}/legal_hold", {"hold": True,
                                                                                         "reason": "Civil claim"}),
    "SubjectRightsApi.staff_record": lambda t: (
        f"/api/v1/subject/{db.session.get(Case, t.restricted_case).subject_id}/staff_record",
        {"staff": t.staff_member}),
    "SubjectRightsApi.access_export": lambda t: (f"/api/v1/subject/{t.subject}/access_export?format=pdf", None),
    "RiskView.index": lambda t: ("/risk/", None),
    "RiskView.show": lambda t: (f"/risk/{t.risk}", None),
    "RiskView.reviews": lambda t: ("/risk/reviews/", None),
    "RiskView.review": lambda t: (f"/risk/reviews/{t.risk_review}", None),
    "RiskView.new": lambda t: ("/risk/new", {"area": "staff_training", "title": "Staff miss the refresher",
                                            "likelihood": "2", "impact": "3", "controls": "Reminders"}),
    "RiskView.edit": lambda t: (f"/risk/{t.risk}/edit", {"area": "site_welfare", "title": "Visitors unescorted",
                                                         "likelihood": "3", "impact": "3", "controls": ""}),
    "RiskView.add_action": lambda t: (f"/risk/{t.risk}/actions", {"title": "Brief reception",
                                                                  "owner_id": uid("officer"), "due_date": later()}),
    "RiskView.update_action": lambda t: (f"/risk/action/{t.risk_action}", {"status": "done",
                                                                           "completion_note": "Checked"}),
    "RiskView.sign_off": lambda t: (f"/risk/reviews/?for={t.risk}", {"note": "Reviewed with the Board"}),
    "RiskApi.list_risks": lambda t: (f"/api/v1/risk/?for={t.risk}", None),
    "RiskApi.list_reviews": lambda t: (f"/api/v1/risk/review/?for={t.risk_review}", None),
    "RiskApi.add_risk": lambda t: ("/api/v1/risk/", {"area": "staff_training", "title": "Staff miss the refresher",
                                                     "likelihood": 2, "impact": 3, "controls": "Reminders"}),
    "RiskApi.update_risk": lambda t: (f"/api/v1/risk/{t.risk}", {"area": "site_welfare",
                                                                 "title": "Visitors unescorted", "likelihood": 3,
                                                                 "impact": 3, "controls": None}),
    "RiskApi.add_action": lambda t: (f"/api/v1/risk/{t.risk}/actions", {"title": "Brief reception",
                                                                        "owner_id": uid("officer"),
                                                                        "due_date": later()}),
    "RiskApi.update_action": lambda t: (f"/api/v1/risk/action/{t.risk_action}", {"status": "done",
                                                                                 "completion_note": "Checked"}),
    "RiskApi.sign_off": lambda t: (f"/api/v1/risk/review?for={t.risk}", {"note": "Reviewed with the Board"}),
    # The lists: with an alert (a source) made first (`t.alert and ...`), so that a refusal is seen not to show it.
    "MonitoringAlertView.index": lambda t: (t.alert and "/monitoring/", None),
    "MonitoringAlertView.show": lambda t: (f"/monitoring/{t.alert}", None),
    "MonitoringAlertView.raise_concern": lambda t: (f"/monitoring/{t.alert}/raise", {
        "subject.full_name": f"Person {t.marker}", "subject.subject_type": "learner"}),
    "MonitoringAlertView.dismiss": lambda t: (f"/monitoring/{t.alert}/dismiss", {"reason": "Not a concern"}),
    "MonitoringSourceView.index": lambda t: (t.monitoring_source and "/monitoring/sources/", None),
    "MonitoringSourceView.add": lambda t: ("/monitoring/sources/new", {"name": f"Source {uuid.uuid4().hex[:8]}"}),
    "MonitoringSourceView.revoke": lambda t: (f"/monitoring/sources/{t.monitoring_source}/revoke", {}),
    "MonitoringApi.list_alerts": lambda t: (t.alert and "/api/v1/monitoring/alert/", None),
    "MonitoringApi.get_alert": lambda t: (f"/api/v1/monitoring/alert/{t.alert}", None),
    "MonitoringApi.dismiss_alert": lambda t: (f"/api/v1/monitoring/alert/{t.alert}/dismiss", {"reason": "No concern"}),
    "MonitoringApi.raise_concern": lambda t: (f"/api/v1/monitoring/alert/{t.alert}/concern", {
        "subject": {"full_name": f"Person {t.marker}", "subject_type": "learner"}}),
    "MonitoringApi.receive_alert": lambda t: ("/api/v1/monitoring/alert", {
        "source_id": f"A-{t.marker}", "occurred_at": date.today().isoformat() + "T00:00:00+00:00", "user": "u",
        "category": "c", "severity": "low", "excerpt": f"Alert text {t.marker}"}),
}


def is_api(endpoint: str) -> bool:
    return endpoint.split(".")[0].endswith("Api")


class Caller:
    """A signed-in (or anonymous) client for one route; `send` makes the request for the given records."""

    def __init__(self, web, api, endpoint: str, method: str, username: str | None):
        self.endpoint, self.method = endpoint, method
        if is_api(endpoint):
            self.client = api(username)
        else:
            self.client = web(username)
            if method != "GET":  # every employee can open the concern form; a visitor has the login page
                page = self.client.get("/concerns/new" if username else "/login/").get_data(as_text=True)
                self.token = csrf_token(page)

    def send(self, t):
        path, body = REQUESTS[self.endpoint](t)
        if self.method == "GET":
            return self.client.get(path)
        if is_api(self.endpoint):
            if isinstance(body, Multipart):
                return self.client.post(path, data=body)
            return getattr(self.client, self.method.lower())(path, json=body)
        return self.client.post(path, data={**body, "csrf_token": self.token})


def outcome(response, endpoint: str) -> str:
    code = response.status_code
    if code == 302 and not is_api(endpoint) and urlparse(response.location).path == "/login/":
        return LOGIN
    if code == 401 and is_api(endpoint):
        return NOAUTH
    if code in (403, 404):
        return {403: NO, 404: GONE}[code]
    if code < 400 or code in (409, 422):
        return OK
    return f"HTTP {code}"


def world() -> tuple:
    """What a write may change: the audit trail (every case write appends to it) and the reference data."""
    state = (db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
             db.session.execute(
                 sa.select(Indicator.id, Indicator.label, Indicator.active).order_by(Indicator.id)).all(),
             db.session.execute(sa.select(ConcernType.id, ConcernType.label).order_by(ConcernType.id)).all())
    db.session.rollback()
    return state


def body_of(response) -> str:
    return response.get_data(as_text=True)


# Every test here works in an app context: Records makes its records through the services.
pytestmark = pytest.mark.usefixtures("ctx")


# --- 1. the matrix --------------------------------------------------------------------------------------------

def test_every_route_is_in_the_matrix_or_declared_not_a_case_route(app):
    served = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    unreviewed = {(e, m) for e, m in served if (e, m) not in MATRIX and e not in NOT_CASE}
    assert not unreviewed, f"routes in neither MATRIX nor NOT_CASE_ROUTES: {sorted(unreviewed)}"
    assert not set(MATRIX) - served, "MATRIX names routes the app does not serve"
    assert not NOT_CASE - {e for e, _ in served}, "NOT_CASE_ROUTES names endpoints the app does not serve"
    assert not {e for e, _ in MATRIX} & NOT_CASE
    assert {e for e, _ in MATRIX} == set(REQUESTS)


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
@pytest.mark.parametrize("endpoint,method", sorted(MATRIX))
def test_role_on_route(web, api, endpoint, method, role):
    expected = MATRIX[endpoint, method][ROLES.index(role)]
    t = Records()
    caller = Caller(web, api, endpoint, method, role)
    REQUESTS[endpoint](t)  # make the records first, so that `world` sees only what the request changes
    before = world()
    response = caller.send(t)
    assert outcome(response, endpoint) == expected, (response.status_code, body_of(response)[:500])
    if method != "GET":
        assert (world() != before) == (expected == OK), "an allowed write must change something, a refused one nothing"
    if expected != OK:
        assert t.marker not in body_of(response)


# --- 2. other people's records --------------------------------------------------------------------------------

# Routes that create a record rather than read or change one: there is no existing case in them to leak.
CREATE_ROUTES = {("ConcernView.new", "GET"), ("ConcernView.new", "POST"), ("CaseApi.raise_concern", "POST"),
                 ("SubjectApi.create", "POST")}
CASE_RECORD_ROUTES = sorted(route for route in MATRIX if route not in CREATE_ROUTES and route[0].split(".")[0]
                            in {"ConcernView", "CaseView", "CaseApi", "ActionApi", "SubjectApi", "ReferralFormView",
                                "ReferralFormApi", "SafeguardingApi"})
OUTSIDERS = {  # who, with which role's column in MATRIX, on which case
    "staff2": ("staff", False),      # another member of staff, on the case staff raised
    "officer": ("officer", True),    # an officer, on a concern about a colleague they were never granted
    "officer-withdrawn": ("officer", True),  # the same, after the Lead granted access and then withdrew it
}


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("endpoint,method", CASE_RECORD_ROUTES)
def test_a_case_one_may_not_see_is_not_found_on_every_route(app, web, api, endpoint, method, outsider):
    """404 wherever the role could act on the case, the same answer as for a case that does not exist, and never
    its content. Where the role may not use the route at all the answer is its 403, whatever the id."""
    column, restricted = OUTSIDERS[outsider]
    username = outsider.split("-")[0]
    t = Records(restricted=restricted)
    reference = t.case_row.reference
    if outsider == "officer-withdrawn":
        access.grant_access(user("lead"), t.case, {"user_id": uid("officer"), "reason": "Covering"})
        access.revoke_access(user("lead"), t.case, uid("officer"), {"reason": "Cover ended"})
    takes_id = "<" in next(r.rule for r in app.url_map.iter_rules(endpoint=endpoint) if method in r.methods)
    allowed = MATRIX[endpoint, method][ROLES.index(column)]
    expected = GONE if takes_id and allowed == OK else allowed

    caller = Caller(web, api, endpoint, method, username)
    REQUESTS[endpoint](t)
    before = world()
    response = caller.send(t)
    assert outcome(response, endpoint) == expected, (response.status_code, body_of(response)[:500])
    assert t.marker not in body_of(response)
    assert reference not in body_of(response)
    if method != "GET":
        assert world() == before
    if takes_id:
        missing = caller.send(MISSING)
        assert missing.status_code == response.status_code
        if is_api(endpoint):
            assert missing.get_json() == response.get_json()


def test_lead_grants_an_officer_a_restricted_case_then_withdraws_it(web, api):
    t = Records(restricted=True)
    officer, lead, officer_pages = api("officer"), api("lead"), web("officer")

    def officer_sees() -> dict[str, Any]:
        list_page = body_of(officer_pages.get(f"/cases/?concern_type_id={t.concern_type}"))
        return {"case": officer.get(f"/api/v1/case/{t.case}").status_code,
                "chronology": officer.get(f"/api/v1/case/{t.case}/chronology").status_code,
                "subject": officer.get(f"/api/v1/subject/{t.subject}").status_code,
                "page": officer_pages.get(f"/cases/{t.case}").status_code,
                "listed": officer.get(f"/api/v1/case/?q={case_filter(t)}").get_json()["ids"],
                "on list page": t.case_row.reference in list_page}

    hidden = {"case": 404, "chronology": 404, "subject": 404, "page": 404, "listed": [], "on list page": False}
    assert officer_sees() == hidden
    assert lead.get(f"/api/v1/case/{t.case}").status_code == 200

    granted = lead.post(f"/api/v1/case/{t.case}/grants", json={"user_id": uid("officer"), "reason": "Covering"})
    assert granted.status_code == 201, granted.get_json()
    assert officer_sees() == {"case": 200, "chronology": 200, "subject": 200, "page": 200, "listed": [t.case],
                              "on list page": True}
    full = officer.get(f"/api/v1/case/{t.case}").get_json()["result"]
    assert full["description"] == f"Concern text {t.marker}" and full["restricted"] is True
    assert {"reporter", "subject", "version", "allowed_events"} <= set(full)
    moved = officer.post(f"/api/v1/case/{t.case}/transition", json={"event": "acknowledge", "reason": "Read it"})
    assert moved.status_code == 200 and moved.get_json()["result"]["status"] == "under_review"

    withdrawn = lead.delete(f"/api/v1/case/{t.case}/grants/{uid('officer')}", json={"reason": "Cover ended"})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert officer_sees() == hidden


def test_staff_list_only_their_own_cases_and_only_the_reporters_fields(api):
    mine = Records()
    someone_elses = make_case("staff2")
    referred = make_case("staff", state="referred_to_police")
    staff = api("staff")

    listed = staff.get(f"/api/v1/case/?q={case_filter(mine)}").get_json()
    assert listed["ids"] == [mine.case]
    assert set(listed["result"][0]) == {"id", "reference", "status", "recorded_at", "occurred_at", "description",
                                        "subject_id"}  # the subject is one they recorded themselves
    assert listed["result"][0]["description"] == f"Concern text {mine.marker}"

    everything = staff.get("/api/v1/case/?q=(page_size:100)").get_json()
    reporters = {row[0] for row in
                 db.session.execute(sa.select(Case.reporter_id).where(Case.id.in_(everything["ids"])))}
    assert someone_elses not in everything["ids"]
    assert reporters == {uid("staff")} and everything["count"] == db.session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(Case.reporter_id == uid("staff")))
    # The police referral is the officers' work: the reporter is told only that the concern is being looked at.
    assert staff.get(f"/api/v1/case/{referred}").get_json()["result"]["status"] == "under_review"


def test_naming_a_subject_one_may_not_look_up_is_refused(api):
    """Raising a concern about an existing subject by id: staff only about people they recorded themselves, officers
    not about the colleague of a restricted case they were not granted. Refused as a bad field, nothing revealed."""
    theirs = api("staff2").post("/api/v1/subject/", json={"full_name": "Private Person", "subject_type": "learner"})
    assert theirs.status_code == 201
    colleague = Records(restricted=True)
    for username, subject_id in (("staff", theirs.get_json()["id"]), ("officer", colleague.subject)):
        response = api(username).post("/api/v1/case/", json=concern_payload(subject_id=subject_id, subject=None))
        assert response.status_code == 422, response.get_json()
        assert set(response.get_json()["message"]) == {"subject_id"}
        assert "Private Person" not in body_of(response) and colleague.marker not in body_of(response)
    # The Lead grants officer2 the case, and with it the person (reading the property makes the grant).
    colleague.restricted_case  # noqa: B018
    again = concern_payload(subject_id=colleague.subject, subject=None)
    assert api("officer2").post("/api/v1/case/", json=again).status_code == 201


@pytest.mark.parametrize("username,path", [("officer", "/api/v1/case/"), ("staff", "/api/v1/case/"),
                                           ("admin", "/api/v1/security/users/")])
def test_malformed_rison_is_a_bad_request(api, username, path):
    response = api(username).get(path, query_string={"q": "(("})
    assert response.status_code == 400
    assert set(response.get_json()) == {"message"}


def test_an_id_too_large_for_the_database_is_not_found_not_a_server_error(api, web):
    huge = 2**31  # one past the largest INTEGER key on PostgreSQL
    assert api("lead").get(f"/api/v1/case/{huge}/chronology").status_code == 404
    assert api("lead").get(f"/api/v1/employer/{huge}").status_code == 404
    assert web("lead").get(f"/cases/{huge}").status_code == 404
