"""Pages: the one place that registers every view and menu item. The views live with their areas (app/cases/pages.py,
app/employers/pages.py, ...); each reads input, calls one use case, renders. What the user may do reaches a template
as `may`, worked out by the view once per page (templates never call `can`); dates, times and stored names are shown
through the filters of app/kernel/formats.py."""
from __future__ import annotations

from flask import current_app

from app.british_values.pages import BritishValuesView
from app.cases.pages import CaseView, ConcernTypeView, ConcernView, IndicatorView, MyWorkView
from app.cases.policy_words import DEFINITIONS, NOT_CRIMINAL
from app.cases.referral_pages import ReferralFormView
from app.directory.pages import DirectoryView
from app.employers.pages import CoverageView, EmployerAcknowledgementView, EmployerView
from app.governance.pages import BoardReportView, EvidencePackView, OversightView, RetentionView
from app.governance.settings_pages import SettingsView
from app.identity.pages import RoleGrantView
from app.kernel import formats
from app.models import CaseStatus, IndicatorKind
from app.monitoring.pages import MonitoringAlertView, MonitoringSourceView
from app.notifications.pages import MyEmailView, OutboxView
from app.policies.pages import PolicyComplianceView, PolicyView
from app.risks.pages import RiskView
from app.speakers.pages import SpeakerView
from app.subcontractors.pages import SubcontractorView
from app.training.pages import ComplianceView, TrainingCourseView, TrainingView
from app.training.requirement_pages import TrainingRequirementView


def register(appbuilder) -> None:
    # The menu fits one row at 1280 px for the Prevent Lead: reports, training and reference data are groups (a group
    # with one item for the user shows as that item's link); "Account" items sit in the menu under the user's name.
    appbuilder.add_view(MyWorkView, "My work", icon="fa-tasks")
    appbuilder.add_view(ConcernView, "Raise a concern", href="/concerns/new", icon="fa-bullhorn")
    appbuilder.add_link("My concerns", href="/concerns/mine", icon="fa-list")
    appbuilder.add_view(CaseView, "Cases", icon="fa-folder-open")
    appbuilder.add_view_no_menu(ReferralFormView)
    appbuilder.add_view(OversightView, "Oversight", category="Reports", icon="fa-eye")
    appbuilder.add_view(BoardReportView, "Board report", category="Reports", icon="fa-bar-chart")
    appbuilder.add_view(EvidencePackView, "Evidence pack", category="Reports", icon="fa-file-pdf-o")
    appbuilder.add_view(RetentionView, "Retention", category="Reports", icon="fa-archive")
    appbuilder.add_view(RiskView, "Risk assessment", category="Reports", icon="fa-exclamation-triangle")
    appbuilder.add_view(IndicatorView, "Indicators", category="Reference data", icon="fa-check-square")
    appbuilder.add_view(ConcernTypeView, "Types of concern", category="Reference data", icon="fa-tags")
    # Officers read it too: for them "Reference data" holds this one item, shown as its link.
    appbuilder.add_view(DirectoryView, "Prevent contacts", category="Reference data", icon="fa-address-book")
    appbuilder.add_view(OutboxView, "Email outbox", category="Reports", icon="fa-envelope")
    appbuilder.add_view(MyEmailView, "My email", category="Account", icon="fa-envelope-o")
    # "External": the provider's partners outside it, the employers of apprentices and the speakers and events it
    # hosts (one menu group, so the Lead's menu keeps to one row).
    appbuilder.add_view(EmployerView, "Employers", category="External", icon="fa-building")
    appbuilder.add_view(CoverageView, "Employer coverage", category="Reports", icon="fa-pie-chart")
    appbuilder.add_view_no_menu(EmployerAcknowledgementView)
    appbuilder.add_view(TrainingView, "My training", href="/training/mine", category="Training",
                        icon="fa-graduation-cap")
    appbuilder.add_link("Staff training", href="/training/staff/", category="Training", icon="fa-users")
    appbuilder.add_view(ComplianceView, "Training compliance", category="Reports", icon="fa-pie-chart")
    appbuilder.add_link("Import staff or training", href="/training/import", category="Training", icon="fa-upload")
    appbuilder.add_view(TrainingCourseView, "Training courses", category="Reference data", icon="fa-book")
    # The provider's policies: each employee's own confirmations beside their training; the Lead's register; the
    # compliance figures beside training compliance.
    appbuilder.add_view(PolicyView, "My policies", href="/policies/mine", category="Training", icon="fa-file-text-o")
    appbuilder.add_link("Policies", href="/policies/register/", category="Reference data", icon="fa-files-o")
    appbuilder.add_view(PolicyComplianceView, "Policy compliance", category="Reports", icon="fa-check-circle")
    # Programme teams log British values activities and Learner Voice results; Governance reads the figures.
    appbuilder.add_view(BritishValuesView, "British values", category="Reports", icon="fa-flag")
    appbuilder.add_view(TrainingRequirementView, "Training by role", href="/training/requirements/",
                        category="Training", icon="fa-id-badge")
    # Officers and Governance read it too (for Governance, "Reference data" holds this one item, shown as its link).
    appbuilder.add_view(SubcontractorView, "Subcontractors", category="Reference data", icon="fa-handshake-o")
    appbuilder.add_view(SettingsView, "Pathway settings", category="Reference data", icon="fa-sliders")
    # Every employee asks for approval of external speakers and events; officers and the Lead keep the register.
    appbuilder.add_view(SpeakerView, "Speakers and events", href="/speakers/mine", category="External",
                        icon="fa-microphone")
    appbuilder.add_link("Speaker register", href="/speakers/", category="External", icon="fa-list-alt")
    appbuilder.add_view(RoleGrantView, "Role grants", category="Security", icon="fa-user-plus")
    # Web filtering and monitoring alerts: the officers' queue beside the other pages that watch how things stand;
    # the Admin's sources (each with its key) beside the other security pages.
    appbuilder.add_view(MonitoringAlertView, "Monitoring alerts", category="Reports", icon="fa-bell")
    appbuilder.add_view(MonitoringSourceView, "Monitoring sources", category="Security", icon="fa-key")
    formats.register_filters(current_app)
    # Permissions reach templates as `may`, worked out by each view: no template calls `can`.
    current_app.jinja_env.globals.update(CaseStatus=CaseStatus, IndicatorKind=IndicatorKind)
    # The policy's words (app/cases/policy_words.py), written once, on the concern form, the reporter's view, the
    # referral form and the consent step.
    current_app.jinja_env.globals.update(POLICY_DEFINITIONS=DEFINITIONS, NOT_CRIMINAL=NOT_CRIMINAL)
